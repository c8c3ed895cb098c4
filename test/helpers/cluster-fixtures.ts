/** Small builders for Nodes, Pods and AgentPools used across tests. */
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';

export function node(name: string, labels: Record<string, string> = {}, gpus?: number, annotations?: Record<string, string>): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, ...(annotations !== undefined ? { annotations } : {}) },
    status: { allocatable: gpus === undefined ? { cpu: '8' } : { cpu: '8', 'nvidia.com/gpu': String(gpus) } },
  };
}

export function pod(name: string, options: { namespace?: string; pool?: string; nodeName?: string; gpus?: number; phase?: string; uid?: string } = {}): Pod {
  const ns = options.namespace ?? 'agents';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: options.uid ?? `uid-${name}`,
      labels: options.pool !== undefined ? { 'neuronetes.io/agent-pool': options.pool } : {},
    },
    spec: {
      ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}),
      containers: [{ name: 'agent', resources: { requests: options.gpus !== undefined ? { 'nvidia.com/gpu': String(options.gpus) } : {} } }],
    },
    status: { phase: options.phase ?? (options.nodeName !== undefined ? 'Running' : 'Pending') },
  };
}

export function agentPool(name: string, spec: Partial<AgentPool['spec']> = {}, namespace = 'agents'): AgentPool {
  return {
    apiVersion: 'neuronetes.io/v1alpha1',
    kind: 'AgentPool',
    metadata: { name, namespace },
    spec: { agentClassRef: { name: 'default' }, minReplicas: 1, maxReplicas: 5, ...spec },
  };
}

/** ExtenderArgs in names mode (nodeCacheCapable: true). */
export function namesArgs(p: Pod, names: string[]): { Pod: Pod; NodeNames: string[] } {
  return { Pod: p, NodeNames: names };
}

/** ExtenderArgs in full-node mode (nodeCacheCapable: false). */
export function nodesArgs(p: Pod, nodes: Node[]): { Pod: Pod; Nodes: { apiVersion: string; kind: string; items: Node[] } } {
  return { Pod: p, Nodes: { apiVersion: 'v1', kind: 'NodeList', items: nodes } };
}
