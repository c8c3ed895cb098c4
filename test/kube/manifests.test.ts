/**
 * Every manifest and scheduler config parses, and says what it must: RBAC is exactly what each
 * process uses (no more), workloads are probed, bounded and locked down, the ConfigMap is the
 * shipped config, and every KubeSchedulerConfiguration points at the service the same way.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { LEADER_LEASE_NAME } from '../../src/cluster/kubernetes-source.ts';
import { readConfig, resolveConfig } from '../../src/config/parse-config.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The slices of the YAML the checks read. */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Role extends K8sObject {
  rules: Rule[];
}
interface Binding extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
}
interface Container {
  name: string;
  args?: string[];
  command?: string[];
  livenessProbe?: unknown;
  readinessProbe?: { httpGet: { path: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: unknown;
  ports?: { name: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  hostNetwork?: boolean;
  securityContext: { runAsNonRoot?: boolean; seccompProfile: { type: string } };
  containers: Container[];
}
interface Workload extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { spec: PodSpec } };
}
interface Service extends K8sObject {
  spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
}
interface Extender {
  urlPrefix: string;
  weight: number;
  enableHTTPS?: boolean;
  tlsConfig?: { caFile?: string };
  nodeCacheCapable: boolean;
  bindVerb?: string;
  managedResources: unknown;
}
interface SchedulerConfig {
  apiVersion: string;
  kind: string;
  extenders: Extender[];
  profiles?: unknown;
  leaderElection?: { resourceName?: string };
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFiles(path)));
    else if (entry.name.endsWith('.yaml')) out.push(path);
  }
  return out.sort();
}

const docs = new Map<string, K8sObject[]>();
for (const dir of ['manifests', 'scheduler-config']) {
  for (const file of await yamlFiles(join(ROOT, dir))) {
    const parsed = parseAllDocuments(await readFile(file, 'utf8'));
    docs.set(
      relative(ROOT, file),
      parsed.map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message ?? ''}`);
        return d.toJS() as K8sObject;
      }),
    );
  }
}
const all = [...docs.values()].flat();
function find<T extends K8sObject>(kind: string, name: string): T {
  const found = all.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found as T;
}

t.test('every file parses into Kubernetes objects', async (t) => {
  t.ok(docs.size >= 15, `${docs.size} files`);
  for (const [file, list] of docs) {
    for (const o of list) {
      t.type(o.apiVersion, 'string', `${file}: apiVersion`);
      t.type(o.kind, 'string', `${file}: kind`);
    }
  }
});

t.test('kustomization lists every manifest (the ServiceMonitor needs the Prometheus Operator, so not it)', async (t) => {
  const k = parse(await readFile(join(ROOT, 'manifests', 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const files = [...docs.keys()].filter((f) => f.startsWith('manifests/')).map((f) => f.slice('manifests/'.length));
  t.same([...k.resources].sort(), files.filter((f) => !['kustomization.yaml', 'servicemonitor.yaml'].includes(f)).sort());
});

/** "group/resource:verb" (+ "@name" for named rules) for every grant of the roles bound to a ServiceAccount. */
function grants(serviceAccount: string): string[] {
  const bound = (all as Binding[]).filter(
    (o) => ['RoleBinding', 'ClusterRoleBinding'].includes(o.kind) && o.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount),
  );
  const out: string[] = [];
  for (const binding of bound) {
    const role = find<Role>(binding.roleRef.kind, binding.roleRef.name);
    for (const rule of role.rules) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          for (const verb of rule.verbs) {
            for (const name of rule.resourceNames ?? ['']) {
              out.push(
                `${group === '' ? 'core' : group}/${resource}:${verb}${name === '' ? '' : `@${name}`}${binding.kind === 'RoleBinding' ? ` (in ${binding.metadata.namespace ?? ''})` : ''}`,
              );
            }
          }
        }
      }
    }
  }
  return out.sort();
}

t.test(
  'RBAC for `serve`: informers, pods/binding, AgentPool status and scale, Model status, pool scale targets, Events, its own Lease — nothing else',
  async (t) => {
    t.same(grants('neuronetes-extender'), [
      ...['apps/deployments', 'apps/replicasets', 'apps/statefulsets'].flatMap((r) => [`${r}/scale:get`, `${r}/scale:patch`, `${r}:get`]),
      'coordination.k8s.io/leases:create (in neuronetes-system)',
      `coordination.k8s.io/leases:get@${LEADER_LEASE_NAME} (in neuronetes-system)`,
      `coordination.k8s.io/leases:update@${LEADER_LEASE_NAME} (in neuronetes-system)`,
      'core/events:create',
      'core/events:patch',
      'core/nodes:get',
      'core/nodes:list',
      'core/nodes:watch',
      'core/pods/binding:create',
      'core/pods:get',
      'core/pods:list',
      'core/pods:watch',
      'leaderworkerset.x-k8s.io/leaderworkersets/scale:get',
      'leaderworkerset.x-k8s.io/leaderworkersets/scale:patch',
      'leaderworkerset.x-k8s.io/leaderworkersets:get',
      'neuronetes.io/agentclasses:get',
      'neuronetes.io/agentclasses:list',
      'neuronetes.io/agentclasses:watch',
      'neuronetes.io/agentpools/scale:patch',
      'neuronetes.io/agentpools/status:patch',
      'neuronetes.io/agentpools:get',
      'neuronetes.io/agentpools:list',
      'neuronetes.io/agentpools:watch',
      'neuronetes.io/models/status:patch',
      'neuronetes.io/models:get',
      'neuronetes.io/models:list',
      'neuronetes.io/models:watch',
    ]);
  },
);

t.test('RBAC for `agent`: lists and watches Models, patches Nodes (the cached-models annotation) — nothing else', async (t) => {
  t.same(grants('neuronetes-agent'), ['core/nodes:patch', 'neuronetes.io/models:list', 'neuronetes.io/models:watch']);
});

t.test('no role anywhere grants wildcards, Secrets or escalation verbs', async (t) => {
  for (const role of (all as Role[]).filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
    for (const rule of role.rules) {
      const words = [...rule.apiGroups, ...rule.resources, ...rule.verbs];
      t.notOk(words.includes('*'), `${role.metadata.name}: no wildcard`);
      t.notOk(
        words.some((w) => ['secrets', 'escalate', 'bind', 'impersonate'].includes(w)),
        `${role.metadata.name}: no secrets or escalation`,
      );
    }
  }
});

t.test('workloads: probes, resources, locked-down security context, their own ServiceAccount', async (t) => {
  for (const [kind, name, sa] of [
    ['Deployment', 'neuronetes-extender', 'neuronetes-extender'],
    ['DaemonSet', 'neuronetes-agent', 'neuronetes-agent'],
    ['Deployment', 'neuronetes-scheduler', 'neuronetes-scheduler'],
  ] as const) {
    const pod = find<Workload>(kind, name).spec.template.spec;
    t.equal(pod.serviceAccountName, sa, `${name}: service account`);
    t.equal(pod.securityContext.runAsNonRoot, true, `${name}: non-root`);
    t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    for (const c of pod.containers) {
      t.ok(c.livenessProbe !== undefined && c.readinessProbe !== undefined, `${name}/${c.name}: probes`);
      t.ok(c.resources.requests['cpu'] && c.resources.requests['memory'] && c.resources.limits['memory'], `${name}/${c.name}: requests and a memory limit`);
      t.match(
        c.securityContext,
        { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        `${name}/${c.name}: locked down`,
      );
    }
  }
  const serve = find<Workload>('Deployment', 'neuronetes-extender').spec;
  const container = serve.template.spec.containers[0];
  t.ok((serve.replicas ?? 1) >= 2, 'several replicas (one leader writes)');
  t.same(container?.args, ['serve', '--cluster', 'kubernetes', '--config', '/etc/neuronetes/config']);
  t.equal(container?.readinessProbe?.httpGet.path, '/readyz');
  const service = find<Service>('Service', 'neuronetes-extender');
  t.same(service.spec.selector, serve.selector.matchLabels, 'the Service selects the Deployment');
  t.equal(container?.ports?.[0]?.name, service.spec.ports[0]?.targetPort);
  const monitor = find<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>('ServiceMonitor', 'neuronetes-extender');
  t.same(monitor.spec.selector.matchLabels, { 'app.kubernetes.io/name': service.metadata.labels?.['app.kubernetes.io/name'] });
});

t.test('the ConfigMap carries the shipped config (examples/config/neuronetes.yaml)', async (t) => {
  const fromConfigMap = resolveConfig(find('ConfigMap', 'neuronetes-config'));
  const shipped = await readConfig(join(ROOT, 'examples', 'config', 'neuronetes.yaml'));
  t.same(fromConfigMap.document, shipped.document);
  t.same(fromConfigMap.modules, shipped.modules);
});

t.test('scheduler configs: v1, GPU pods only, weighted, the service URL, CA for HTTPS', async (t) => {
  const configs = [...docs]
    .filter(([, list]) => list[0]?.kind === 'KubeSchedulerConfiguration')
    .map(([f, list]) => [f, list[0] as unknown as SchedulerConfig] as const);
  const embedded = find('ConfigMap', 'neuronetes-scheduler-config').data?.['config.yaml'] ?? '';
  const second = parse(embedded) as SchedulerConfig;
  configs.push(['second-scheduler ConfigMap', second]);
  t.equal(configs.length, 5);
  for (const [file, config] of configs) {
    t.equal(config['apiVersion'], 'kubescheduler.config.k8s.io/v1', `${file}: current API`);
    const [extender, ...more] = config.extenders;
    t.equal(more.length, 0);
    t.match(extender, { filterVerb: 'filter', prioritizeVerb: 'prioritize', ignorable: false, httpTimeout: '5s' }, file);
    t.ok((extender?.weight ?? 0) > 0, `${file}: weight > 0`);
    t.match(extender?.urlPrefix, /^https?:\/\/.+:8080\/scheduler$/, `${file}: the service's scheduler routes`);
    const managed = (extender?.managedResources ?? []) as { name: string; ignoredByScheduler: boolean }[];
    t.ok(
      managed.every((r) => /^nvidia\.com\/(gpu|mig-\d+g\.\d+gb)$/.test(r.name) && r.ignoredByScheduler === false),
      `${file}: only GPU and MIG pods wait on the extender`,
    );
    // A pod asking only for a slice is sent only if its exact resource name is listed.
    for (const profile of ['1g.5gb', '2g.10gb', '3g.40gb', '1g.6gb', '1g.12gb', '1g.18gb', '7g.141gb']) {
      t.ok(
        managed.some((r) => r.name === `nvidia.com/mig-${profile}`),
        `${file}: MIG ${profile}`,
      );
    }
    t.ok(
      managed.some((r) => r.name === 'nvidia.com/gpu'),
      `${file}: whole GPUs`,
    );
    if (extender?.enableHTTPS === true) t.ok(extender.tlsConfig?.caFile, `${file}: HTTPS verifies the server (caFile)`);
    t.equal(extender?.nodeCacheCapable, !file.includes('full-nodes'), `${file}: mode`);
    t.equal(extender?.bindVerb, file.includes('full-nodes') ? undefined : 'bind', `${file}: who binds`);
  }
  t.same(second.profiles, [{ schedulerName: 'neuronetes-scheduler' }]);
  const lease = second.leaderElection?.resourceName ?? '';
  t.ok(
    find<Role>('Role', 'neuronetes-scheduler-leader-election').rules.some((r) => r.resourceNames?.includes(lease)),
    'its Lease is the one its Role names',
  );
  const staticPod = find<K8sObject & { spec: PodSpec }>('Pod', 'kube-scheduler');
  t.equal(staticPod.spec.hostNetwork, true);
  t.ok(staticPod.spec.containers[0]?.command?.includes('--config=/etc/kubernetes/neuronetes-scheduler-config.yaml'));
  const staticConfig = configs.find(([f]) => f.includes('static-pod'))?.[1];
  t.match(staticConfig?.extenders[0]?.urlPrefix, /^http:\/\/\d+\.\d+\.\d+\.\d+:8080\//, 'host network: an IP, not a cluster DNS name');
});
