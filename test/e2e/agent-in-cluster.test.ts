/**
 * The node agent as the shipped DaemonSet starts it, against a real kube-apiserver (+ etcd, RBAC on):
 * the container's args and env from manifests/daemonset-agent.yaml, run through the real CLI as the
 * neuronetes-agent ServiceAccount bound by the shipped rbac-agent.yaml. The test stands in for the
 * kubelet only: the downward API's values, each volume mount as a temp folder (the ConfigMap's keys
 * as files; the cache and seed folders the agent defaults to, named by their environment variables),
 * the ServiceAccount token as a kubeconfig, and a free loopback port.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CoordinationV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { request } from 'undici';
import { parse, parseAllDocuments } from 'yaml';
import { Annotations, GROUP, VERSION } from '../../src/api/neuronetes.ts';
import { apiErrorText, PooledKubeConfig } from '../../src/cluster/kube-api.ts';
import { KubernetesModelSource } from '../../src/models/model-source.ts';
import { DEFAULT_FILE_ROOT } from '../../extenders/builtin/model-loader/file-loader.ts';
import { DEFAULT_CACHE_DIR } from '../../src/models/model-cache.ts';
import { FROM_SOURCE } from '../helpers/processes.ts';
import { tempDir } from '../helpers/test-app.ts';
import { eventually, findKubeBinaries, freePort, startControlPlane, type ControlPlane } from './control-plane.ts';
import { applyCrds, createCustom, createGpuNode, createNamespace, REPO, shippedServiceAccount } from './kube-fixtures.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Container {
  args: string[];
  env: EnvVar[];
  volumeMounts: { name: string; mountPath: string }[];
}

const daemonSet = parse(await readFile(join(REPO, 'manifests', 'daemonset-agent.yaml'), 'utf8')) as {
  spec: { template: { spec: { containers: Container[] } } };
};
const container = daemonSet.spec.template.spec.containers[0] as Container;

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(240_000);
  const cp: ControlPlane = await startControlPlane(bins);
  t.teardown(() => cp.stop());
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  await applyCrds(kc);
  await createNamespace(kc, 'agents');
  await createGpuNode(kc, 'gpu-a', { gpus: 1 });
  await core.patchNode(
    { name: 'gpu-a', body: { metadata: { annotations: { 'example.com/keep': 'me' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const asAgent = (await shippedServiceAccount(kc, cp.server, 'neuronetes-agent', 'rbac-agent.yaml'))();

  // The kubelet's part: mounts as folders, the ConfigMap's keys as files.
  const dir = await tempDir(t);
  const mounts: Record<string, string> = {};
  for (const m of container.volumeMounts) mounts[m.mountPath] = join(dir, m.name);
  const configMap = parseAllDocuments(await readFile(join(REPO, 'manifests', 'configmap.yaml'), 'utf8'))
    .map((d) => d.toJS() as { kind: string; data: Record<string, string> })
    .find((d) => d.kind === 'ConfigMap');
  const configDir = mounts['/etc/neuronetes/config'] as string;
  await mkdir(configDir, { recursive: true });
  for (const [key, text] of Object.entries(configMap?.data ?? {})) await writeFile(join(configDir, key), text);
  const seed = mounts[DEFAULT_FILE_ROOT] as string;
  const cache = mounts[DEFAULT_CACHE_DIR] as string;
  await mkdir(join(seed, 'tiny', 'tokenizer'), { recursive: true });
  await writeFile(join(seed, 'tiny', 'model.gguf'), 'GGUF tiny weights');
  await writeFile(join(seed, 'tiny', 'tokenizer', 'vocab.json'), '{"a":0}');
  await writeFile(join(dir, 'agent.kubeconfig'), asAgent.exportConfig());

  const model = (name: string, weightsURI: string) => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Model',
    metadata: { name },
    spec: { weightsURI, size: '1Mi' },
  });
  // In a cluster the URI names the seed mount inside the container; here, the folder standing in for it.
  await createCustom(kc, 'agents', 'models', model('tiny', `file://${seed}/tiny/`));

  await t.test('the DaemonSet asks for the API server, its Node and its config', async (t) => {
    t.same(container.args.slice(0, 3), ['agent', '--cluster', 'kubernetes']);
    t.ok(container.args.includes('--publish-to-node'));
    t.match(
      container.env.find((e) => e.name === 'NODE_NAME'),
      { valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    );
    t.ok(
      mounts[DEFAULT_FILE_ROOT] !== undefined && mounts[DEFAULT_CACHE_DIR] !== undefined,
      'seed (the file root) and cache are mounted where the agent looks by default',
    );
  });

  await t.test('started as the DaemonSet starts it, the agent loads a Model it read from the cluster and annotates its Node', async (t) => {
    const downward: Record<string, string> = { 'spec.nodeName': 'gpu-a', 'metadata.namespace': 'neuronetes-system' };
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], LOG_LEVEL: 'warn' };
    for (const e of container.env) env[e.name] = e.value ?? downward[e.valueFrom?.fieldRef?.fieldPath ?? ''];
    const port = await freePort();
    Object.assign(env, {
      KUBECONFIG: join(dir, 'agent.kubeconfig'),
      NEURONETES_CACHE_DIR: cache,
      NEURONETES_FILE_ROOTS: seed,
      NEURONETES_AGENT_PORT: String(port),
      HOST: '127.0.0.1',
    });
    const args = container.args.map((a) => mounts[a] ?? a);
    const child = spawn(process.execPath, [FROM_SOURCE, CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    t.teardown(() => void child.kill('SIGTERM'));
    const base = `http://127.0.0.1:${port}`;
    const ready = await eventually(
      'the agent to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`the agent exited ${child.exitCode}: ${stderr}`);
        const res = await request(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) });
        const body = (await res.body.json()) as { source?: string };
        return res.statusCode === 200 ? body : undefined;
      },
      90_000,
    );
    t.match(ready, { source: 'kubernetes' }, 'its Models come from the API server');

    const post = (name: string) =>
      request(`${base}/models/load`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, namespace: 'agents' }),
        signal: AbortSignal.timeout(15_000),
      });
    const res = await post('tiny');
    t.equal(res.statusCode, 200, 'the Model listed before the agent started is known once it is ready');
    t.match(await res.body.json(), { status: 'loaded', loader: 'file', node: 'gpu-a', files: 2, bytes: 24 });
    t.equal(await readFile(join(cache, 'tiny', 'model.gguf'), 'utf8'), 'GGUF tiny weights');
    const annotations = await eventually('the annotation', async () => {
      const a = (await core.readNode({ name: 'gpu-a' })).metadata?.annotations ?? {};
      return a[Annotations.cachedModels] === 'tiny' ? a : undefined;
    });
    t.equal(annotations['example.com/keep'], 'me', 'the rest of the Node is untouched');

    // A Model created while the agent runs arrives through the watch.
    await createCustom(kc, 'agents', 'models', model('tiny-2', `file://${seed}/tiny/`));
    await eventually('the new Model to load', async () => ((await post('tiny-2')).statusCode === 200 ? true : undefined));
    await eventually('both on the Node', async () =>
      (await core.readNode({ name: 'gpu-a' })).metadata?.annotations?.[Annotations.cachedModels] === 'tiny,tiny-2' ? true : undefined,
    );

    // A hostile Model from the cluster is refused by the shipped loader config.
    await createCustom(kc, 'agents', 'models', model('passwd', 'file:///etc/passwd'));
    const refused = await eventually('the hostile Model to be seen', async () => {
      const res = await post('passwd');
      const body = (await res.body.json()) as { message: string };
      return res.statusCode === 404 ? undefined : { status: res.statusCode, ...body };
    });
    t.match(refused, { status: 502, message: /\/etc\/passwd is outside the allowed roots/ });
  });

  await t.test('without the grant, the agent serves not ready and says why', async (t) => {
    await core.createNamespacedServiceAccount({ namespace: 'neuronetes-system', body: { metadata: { name: 'no-grants' } } });
    const { status } = await core.createNamespacedServiceAccountToken({ name: 'no-grants', namespace: 'neuronetes-system', body: { spec: { audiences: [] } } });
    const bare = new PooledKubeConfig();
    bare.loadFromOptions({
      clusters: [{ name: 'e2e', server: cp.server, skipTLSVerify: true }],
      users: [{ name: 'no-grants', token: status?.token ?? '' }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: 'no-grants' }],
      currentContext: 'e2e',
    });
    const source = new KubernetesModelSource({ kubeConfig: bare, log: pino({ level: 'silent' }), staleAfterMs: 120_000, syncTimeoutMs: 1_500 });
    t.teardown(() => source.close());
    await source.start();
    t.match(source.readiness(), { ready: false, reason: /^waiting for the first list of models: 403: .*cannot list resource "models"/ });
    t.equal(source.view().model('agents', 'tiny'), undefined);
  });

  await t.test('the agent ServiceAccount has what the agent uses and nothing more', async (t) => {
    const denied = async (what: string, call: () => Promise<unknown>): Promise<void> => {
      t.match(
        await call().then(
          () => 'allowed',
          (e: unknown) => apiErrorText(e),
        ),
        /^403: /,
        `${what} is denied`,
      );
    };
    const agentCore = asAgent.makeApiClient(CoreV1Api);
    const agentCustom = asAgent.makeApiClient(CustomObjectsApi);
    await denied('reading a Node', () => agentCore.readNode({ name: 'gpu-a' }));
    await denied('listing Nodes', () => agentCore.listNode());
    await denied('listing Pods', () => agentCore.listPodForAllNamespaces());
    await denied('deleting a Node', () => agentCore.deleteNode({ name: 'gpu-a' }));
    await denied('patching Model status', () =>
      agentCustom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace: 'agents', plural: 'models', name: 'tiny', body: { status: { phase: 'Cached' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    await denied('listing AgentPools', () => agentCustom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'agentpools' }));
    await denied('reading Leases', () => asAgent.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: 'neuronetes-system' }));
  });
}
