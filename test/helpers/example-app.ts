/**
 * The service as `npm start` runs it — the example cluster snapshot and the shipped config — and the
 * node kube-scheduler would pick for an extender request: the filter survivor with the highest
 * prioritize Score (it must be the only one with that score, or the example proves nothing).
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { ExtenderArgs, ExtenderFilterResult, HostPriorityList } from '../../src/api/extender.ts';
import type { Node } from '../../src/api/kubernetes.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export async function buildExampleApp(): Promise<{ app: NeuroNetesApp; cluster: SnapshotSource }> {
  const logger = pino({ level: 'silent' });
  const cluster = new SnapshotSource({ path: `${REPO}examples/cluster`, log: logger, watch: false });
  const app = await buildApp({ cluster, configPath: `${REPO}examples/config/neuronetes.yaml`, logger, watchConfig: false });
  await app.ready();
  return { app, cluster };
}

export interface Placement {
  filter: ExtenderFilterResult;
  survivors: string[];
  scores: HostPriorityList;
  winner: string;
}

export async function placePod(app: NeuroNetesApp, args: ExtenderArgs): Promise<Placement> {
  const f = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: args });
  if (f.statusCode !== 200) throw new Error(`filter answered ${f.statusCode}: ${f.body}`);
  const filter = f.json<ExtenderFilterResult>();
  if (filter.Error !== '') throw new Error(`filter failed: ${filter.Error}`);
  const survivors = filter.NodeNames ?? (filter.Nodes as { items: Node[] }).items.map((n) => n.metadata.name);
  const p = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: args });
  if (p.statusCode !== 200) throw new Error(`prioritize answered ${p.statusCode}: ${p.body}`);
  const scores = p.json<HostPriorityList>();
  const ranked = scores.filter((h) => survivors.includes(h.Host)).sort((a, b) => b.Score - a.Score);
  const [best, second] = ranked;
  if (best === undefined) throw new Error('no node survived the filter');
  if (second !== undefined && second.Score === best.Score) throw new Error(`${best.Host} and ${second.Host} tie at ${best.Score}`);
  return { filter, survivors, scores, winner: best.Host };
}
