/** `neuronetes serve` with no --config, through the real CLI: the documented defaults, and a log line for what stays off. */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { request } from 'undici';

const root = join(import.meta.dirname, '..', '..');
const unset = new Set(['NEURONETES_CONFIG', 'NEURONETES_PLUGINS', 'NEURONETES_CLUSTER', 'NEURONETES_SNAPSHOT']);
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !unset.has(name))), LOG_LEVEL: 'info' };
const child = spawn(process.execPath, [join(root, 'src', 'cli.ts'), 'serve', '--port', '0', '--host', '127.0.0.1', '--admin-port', '0'], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
t.teardown(() => {
  child.kill('SIGTERM');
});

const lines: { msg?: string; type?: string; plugin?: string }[] = [];
// The API listener serves the verbs; /debug is on the admin listener only.
const { base, admin } = await new Promise<{ base: string; admin: string }>((ok, fail) => {
  const timer = setTimeout(() => fail(new Error(`serve did not start; logged:\n${lines.map((l) => l.msg).join('\n')}`)), 60_000);
  child.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  let api: string | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const entry = JSON.parse(line) as { msg?: string };
    lines.push(entry);
    api ??= /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/.exec(entry.msg ?? '')?.[1];
    const adminUrl = /^admin listener at (http:\/\/127\.0\.0\.1:\d+)$/.exec(entry.msg ?? '')?.[1];
    if (api !== undefined && adminUrl !== undefined) {
      clearTimeout(timer);
      ok({ base: api, admin: adminUrl });
    }
  });
});
const get = async <T>(path: string, at = base): Promise<T> => (await (await request(`${at}${path}`)).body.json()) as T;

t.test('start-up lines say which providers are off until they have what they need', async (t) => {
  t.same(
    lines.filter((l) => l.plugin !== undefined).map((l) => l.msg),
    [
      'metrics-provider plugin prometheus is off until config.url is set (the Prometheus base URL, e.g. http://prometheus.monitoring.svc:9090)',
      'metrics-provider plugin pods is off until config.port is set (the port the pool pods serve their /metrics on)',
    ],
  );
});

t.test('/debug/plugins shows the README weights and what is off', async (t) => {
  type Listed = { name: string; weight: number; enabled: boolean; off?: string; timeoutMs: number };
  const plugins = await get<Record<string, Listed[]>>('/debug/plugins', admin);
  const weights = Object.fromEntries((plugins['scheduler'] ?? []).map((p) => [p.name, p.weight]));
  t.match(weights, { 'gpu-fit': 30, topology: 25, 'model-cache': 20, cost: 15, 'data-locality': 10, 'pool-spread': 5 });
  t.match(plugins['metrics-provider'], [
    { name: 'prometheus', enabled: false, off: /config\.url/ },
    { name: 'pods', enabled: false, off: /config\.port/ },
    { name: 'static', enabled: true },
  ]);
});

t.test('the bundled example cluster decides as the README says, with no config', async (t) => {
  const decision = await get<{ reason: string; desiredReplicas: number }>('/autoscaler/pools/agents/code-assistant?dryRun=true');
  t.not(decision.reason, 'MetricsUnavailable', 'metrics come from the static provider, not a prometheus with no URL');
  for (const [requestFile, winner] of [
    ['filter-code-assistant.json', 'gpu-a100-1'],
    ['filter-support-bot.json', 'gpu-l4-1'],
    ['filter-research-agent.json', 'gpu-h100-4'],
  ]) {
    const args = JSON.parse(await readFile(join(root, 'examples', 'requests', requestFile as string), 'utf8')) as Record<string, unknown>;
    const post = async <T>(verb: string, body: unknown): Promise<T> =>
      (await (
        await request(`${base}/scheduler/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      ).body.json()) as T;
    const { NodeNames } = await post<{ NodeNames: string[] }>('filter', args);
    const scores = await post<{ Host: string; Score: number }[]>('prioritize', { ...args, NodeNames });
    t.same(
      scores.filter((h) => h.Score === 10).map((h) => h.Host),
      [winner],
      `${requestFile}: ${winner} alone at the top`,
    );
  }
});
