/**
 * The service's heap and malloc settings live in src/server/runtime-flags.ts; the image and `npm
 * start` must say the same, or the bench measures a process that is not the one that ships.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { SERVICE_ENV, SERVICE_NODE_OPTIONS } from '../../src/server/runtime-flags.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** `ENV A=1 B="x y"` lines of a Dockerfile, as a map. */
function dockerfileEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('ENV ')) continue;
    for (const m of line.slice(4).matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) env.set(m[1] as string, m[2] ?? m[3] ?? '');
  }
  return env;
}

t.test('the image runs with the service settings', async (t) => {
  const env = dockerfileEnv(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  t.equal(env.get('NODE_OPTIONS'), SERVICE_NODE_OPTIONS.join(' '));
  for (const [name, value] of Object.entries(SERVICE_ENV)) t.equal(env.get(name), value, name);
});

t.test('npm start runs with the service settings', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const start = pkg.scripts['start'] ?? '';
  const env = Object.entries(SERVICE_ENV).map(([k, v]) => `${k}=${v}`);
  // From source, the built-ins' `import 'neuronetes'` resolves to src/index.ts under this condition.
  t.ok(start.startsWith(`${[...env, 'node', ...SERVICE_NODE_OPTIONS].join(' ')} --conditions=neuronetes-source src/cli.ts serve`), start);
});

t.test('the settings are ones Node accepts in NODE_OPTIONS', async (t) => {
  // A flag Node refuses there would stop the container at start.
  for (const flag of SERVICE_NODE_OPTIONS) t.ok(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0] as string), flag);
});

/** A Kubernetes memory quantity (`512Mi`, `1Gi`) in MiB. */
const mib = (q: string): number => Number.parseInt(q, 10) * (q.endsWith('Gi') ? 1024 : 1);

t.test("each workload's old-space cap stays below its container's memory limit", async (t) => {
  interface Container {
    env?: { name: string; value?: string }[];
    resources?: { limits?: { memory?: string } };
  }
  for (const file of ['deployment.yaml', 'daemonset-agent.yaml']) {
    const doc = parse(await readFile(join(ROOT, 'manifests', file), 'utf8')) as { spec: { template: { spec: { containers: Container[] } } } };
    const container = doc.spec.template.spec.containers[0] as Container;
    const options = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? SERVICE_NODE_OPTIONS.join(' ');
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    const limit = mib(container.resources?.limits?.memory ?? '0');
    t.ok(oldSpace > 0 && oldSpace <= limit * 0.6, `${file}: old space ${oldSpace} MB under ${limit} MiB, with room for the young generation, code and buffers`);
  }
});
