/**
 * The scheduler-throughput bench in a tiny form, for correctness only (no timing): every pod is bound
 * with no extender and through NeuroNetes, and NeuroNetes kept them on the nodes its chain allows
 * (the pool's A100s; kube-scheduler alone also uses the L4 nodes).
 */
import t from 'tap';
import { findKubeBinaries } from '../e2e/control-plane.ts';

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `scheduler-throughput bench test skipped: ${bins.skip}`);
} else {
  t.setTimeout(420_000);
  // Loaded only when it can run, so a skipped suite does not count its code as uncovered.
  const { benchNodeName, benchNodeShape, formatTable, pairedRatio, POOL_GPU_TYPE, runSchedulerThroughput } =
    await import('../../bench/scheduler-throughput.ts');
  const rounds = (...rates: number[]) => rates.map((podsPerSecond) => ({ podsPerSecond }));
  // A quiet round for the trivial extender and a busy one for ours must not be compared: 0.83 by medians here.
  t.equal(pairedRatio(rounds(50, 60, 53), rounds(50.5, 64, 64)), 60 / 64, 'the ratio is the median of the rounds’ own ratios');
  const nodes = 20;
  const result = await runSchedulerThroughput({ nodes, pods: 10, configurations: ['a', 'c'], log: (line) => t.comment(line) });
  const shapes = new Map(Array.from({ length: nodes }, (_, i) => [benchNodeName(i), benchNodeShape(i)]));

  t.same(
    result.results.map((r) => r.id),
    ['a', 'c'],
    'the configurations asked for, in order',
  );
  for (const r of result.results) {
    t.equal(Object.keys(r.placements).length, 10, `${r.label}: all 10 pods bound`);
    t.ok(
      Object.values(r.placements).every((node) => shapes.has(node)),
      `${r.label}: bound to bench nodes`,
    );
    t.ok(r.podsPerSecond > 0, `${r.label}: a rate was computed`);
    const { scheduler, extender } = r.cpuMsPerPod;
    t.ok(scheduler !== undefined && Number.isFinite(scheduler) && scheduler >= 0, `${r.label}: the scheduler's CPU per pod was read (${scheduler} ms)`);
    if (r.id === 'a') t.equal(extender, undefined, 'no extender, no extender CPU');
    else t.ok(extender !== undefined && extender > 0, `${r.label}: the extender's CPU per pod was read (${extender} ms)`);
  }
  const ours = result.results.find((r) => r.id === 'c');
  const wrongType = Object.entries(ours?.placements ?? {}).filter(([, node]) => shapes.get(node)?.gpuType !== POOL_GPU_TYPE);
  t.same(wrongType, [], `NeuroNetes placed every pod on a ${POOL_GPU_TYPE} node`);
  t.same(result.ratios, {}, 'no ratio without the trivial extender');
  t.match(formatTable(result), /\| a \| no extender .*\|\s+\|\n\| c \| NeuroNetes, names .*\|\s+[\d.]+ \|$/);
}
