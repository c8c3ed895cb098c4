/** The shipped manifests wire each consumer to its listener: probes and Prometheus to ops, kube-scheduler to http. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';

const dir = join(import.meta.dirname, '..', '..', 'manifests');
const load = async <T>(file: string): Promise<T> => parse(await readFile(join(dir, file), 'utf8')) as T;

interface Probe {
  httpGet: { path: string; port: string };
}
interface Container {
  env: { name: string; value?: string }[];
  ports: { name: string; containerPort: number }[];
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}

t.test('Deployment, Service and ServiceMonitor: probes and scraping on the ops listener, the admin listener on loopback', async (t) => {
  const deployment = await load<{ spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: Container[] } } } }>('deployment.yaml');
  const service = await load<{ spec: { ports: { name: string; port: number; targetPort: string }[] } }>('service.yaml');
  const monitor = await load<{ spec: { endpoints: { port: string; path: string }[] } }>('servicemonitor.yaml');
  const pod = deployment.spec.template.spec;
  const c = pod.containers[0] as Container;
  const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
  const ops = c.ports.find((p) => p.name === 'ops');
  t.equal(String(ops?.containerPort), env['NEURONETES_OPS_PORT'], 'the ops containerPort is the port serve opens');
  for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe])
    t.equal(probe.httpGet.port, 'ops', `${probe.httpGet.path} on ops: no client certificate needed`);
  t.equal(c.readinessProbe.httpGet.path, '/readyz');
  t.ok(env['NEURONETES_ADMIN_PORT'] !== undefined && env['NEURONETES_ADMIN_HOST'] === undefined, 'the admin listener is on, on its loopback default');
  t.notOk(
    c.ports.some((p) => String(p.containerPort) === env['NEURONETES_ADMIN_PORT']),
    'the admin port is not declared to the cluster',
  );
  const scraped = service.spec.ports.find((p) => p.name === monitor.spec.endpoints[0]?.port);
  t.equal(scraped?.targetPort, 'ops', 'the ServiceMonitor scrapes the ops port');
  t.equal(monitor.spec.endpoints[0]?.path, '/metrics');
  t.ok(
    service.spec.ports.some((p) => p.targetPort === 'http' && p.port === 8080),
    'kube-scheduler still reaches :8080',
  );
  const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
  t.ok(preStop > 0 && preStop + 10 < pod.terminationGracePeriodSeconds, 'preStop sleep plus the 10 s drain fit in the grace period');
});
