/** Small builders for Nodes, Pods and AgentPools used across tests. */
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import * as kit from '../../src/testing/builders.ts';

export function node(name: string, labels: Record<string, string> = {}, gpus?: number, annotations?: Record<string, string>): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, ...(annotations !== undefined ? { annotations } : {}) },
    status: { allocatable: gpus === undefined ? { cpu: '8' } : { cpu: '8', 'nvidia.com/gpu': String(gpus) } },
  };
}

export function pod(name: string, options: { namespace?: string; pool?: string; nodeName?: string; gpus?: number; phase?: string; uid?: string } = {}): Pod {
  return kit.pod({ name, namespace: options.namespace ?? 'agents', ...options, uid: options.uid ?? `uid-${name}` });
}

export function agentPool(name: string, spec: Partial<AgentPool['spec']> = {}, namespace = 'agents'): AgentPool {
  return kit.agentPool({ name, namespace, agentClass: 'default', maxReplicas: 5, spec });
}

/** ExtenderArgs in names mode (nodeCacheCapable: true). */
export function namesArgs(p: Pod, names: string[]): { Pod: Pod; NodeNames: string[] } {
  return { Pod: p, NodeNames: names };
}

/** ExtenderArgs in full-node mode (nodeCacheCapable: false). */
export function nodesArgs(p: Pod, nodes: Node[]): { Pod: Pod; Nodes: { apiVersion: string; kind: string; items: Node[] } } {
  return { Pod: p, Nodes: { apiVersion: 'v1', kind: 'NodeList', items: nodes } };
}
