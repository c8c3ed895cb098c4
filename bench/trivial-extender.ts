/**
 * The floor of any HTTP extender: a bare node:http server that parses each call, keeps every node,
 * scores all alike and binds with one API call, so its cost is the extender protocol's and nothing else.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ExtenderArgs, ExtenderBindingArgs } from '../src/api/extender.ts';

async function readJson<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

function names(args: ExtenderArgs): string[] {
  return args.NodeNames ?? args.Nodes?.items.map((n) => n.metadata.name) ?? [];
}

async function answer(core: CoreV1Api, verb: string | undefined, req: IncomingMessage): Promise<unknown> {
  if (verb === 'filter') {
    const args = await readJson<ExtenderArgs>(req);
    return { Nodes: args.Nodes ?? null, NodeNames: args.NodeNames ?? null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' };
  }
  if (verb === 'prioritize') return names(await readJson<ExtenderArgs>(req)).map((Host) => ({ Host, Score: 0 }));
  if (verb === 'bind') {
    const b = await readJson<ExtenderBindingArgs>(req);
    try {
      await core.createNamespacedPodBinding({
        name: b.PodName,
        namespace: b.PodNamespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: b.PodName, namespace: b.PodNamespace, uid: b.PodUID },
          target: { apiVersion: 'v1', kind: 'Node', name: b.Node },
        },
      });
      return { Error: '' };
    } catch (e: unknown) {
      return { Error: (e as Error).message };
    }
  }
  return undefined;
}

export function trivialExtender(kc: KubeConfig): Server {
  const core = kc.makeApiClient(CoreV1Api);
  return createServer((req, res) => {
    const verb = req.url?.split('/').pop();
    answer(core, verb, req).then(
      (body) => {
        if (body === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      },
      (e: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end((e as Error).message),
    );
  });
}
