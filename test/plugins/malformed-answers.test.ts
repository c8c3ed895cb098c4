/**
 * An answer of the wrong shape is that plugin's error, named, for every plugin type: never a verdict
 * (a rejection whose reason reads "[object Object]"), never a crash, whatever the answer holds
 * (objects, cycles, BigInts, megabytes).
 */
import t from 'tap';
import { describeAnswer } from '../../src/plugins/plugin-answer.ts';
import type { AutoscalerPlugin, Guardrail, MetricsProvider, SchedulerPlugin } from '../../src/plugins/types.ts';
import { agentPool, namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const cyclic: Record<string, unknown> = { passed: false };
cyclic['reason'] = cyclic;

t.test('describeAnswer quotes any answer safely and briefly', async (t) => {
  t.equal(describeAnswer({ passed: false, reason: { code: 7 } }), '{"passed":false,"reason":{"code":7}}');
  t.equal(describeAnswer(cyclic), 'a Object object', 'a cycle is named, not thrown');
  t.equal(describeAnswer(10n), '10n');
  t.equal(describeAnswer(undefined), 'undefined');
  t.match(describeAnswer('x'.repeat(1_000_000)), /^"x{199}… \(1000002 chars\)$/, 'a megabyte is cut');
});

const cluster = {
  nodes: [node('n1')],
  pods: [],
  agentPools: [agentPool('chat', { autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } })],
  agentClasses: [],
  models: [],
};
const chatPod = pod('chat-0', { pool: 'chat' });

t.test("filter: a verdict whose reason or unresolvable has the wrong type is the plugin's error, and rejects nothing by that reason", async (t) => {
  const answers: unknown[] = [{ passed: false, reason: { code: 7 } }, { passed: false, unresolvable: 'yes' }, { passed: 'no' }, cyclic, 10n];
  const names = answers.map((_, i) => `n${i}`);
  // One malformed answer per node.
  const odd: SchedulerPlugin = { name: () => 'odd', filter: (_c, _p, n) => answers[Number(n.metadata.name.slice(1))] as never };
  const nodes = { ...cluster, nodes: names.map((n) => node(n)) };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [odd] }, cluster: nodes });
  const res = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(chatPod, names) });
  t.equal(res.statusCode, 200);
  t.notMatch(res.body, /object Object/);
  const body = res.json();
  t.same(body.NodeNames, [], 'none kept: the plugin answered for none');
  for (const [i, name] of names.entries()) {
    const reason = String(body.FailedAndUnresolvableNodes[name]);
    t.ok(
      reason.startsWith(
        `odd: could not check this node (failed): filter() returned ${describeAnswer(answers[i])}; expected a boolean or {passed: boolean, reason?: string`,
      ),
      reason,
    );
  }
  t.equal((await app.inject('/debug/plugins')).json().scheduler[0].errors, answers.length, 'each counts as an error');

  const fail = await buildTestApp(t, {
    plugins: { scheduler: [odd] },
    cluster: nodes,
    config: { 'scheduler-plugins': [{ name: 'odd', failurePolicy: 'Fail' }] },
  });
  const failed = (await fail.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(chatPod, names) })).json();
  t.match(
    failed.Error,
    /^scheduler plugin "odd" failed: filter\(\) returned \{"passed":false,"reason":\{"code":7\}\}/,
    'under Fail the call answers Error, naming the plugin',
  );
});

t.test("allowEviction: a verdict of the wrong shape is the plugin's error and vetoes the victim", async (t) => {
  const answers: unknown[] = [{ allowed: 'yes' }, { allowed: true, reason: 7 }, 'true'];
  const victims = answers.map((_, i) => pod(`v${i}`, { nodeName: 'n1', uid: String(i) }));
  const odd: SchedulerPlugin = { name: () => 'odd', allowEviction: (_c, _p, v) => answers[Number(v.metadata.uid)] as never };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [odd] }, cluster });
  for (const victim of victims) {
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/preempt',
      payload: { Pod: chatPod, NodeNameToVictims: { n1: { Pods: [victim], NumPDBViolations: 0 } } },
    });
    t.same(res.json(), { NodeNameToMetaVictims: {} }, `${describeAnswer(answers[Number(victim.metadata.uid)])}: vetoed`);
  }
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.match(trace.plugins[0].failure, /^error: allowEviction\(\) returned "true"; expected a boolean or \{allowed: boolean, reason\?: string\}$/);
  t.equal((await app.inject('/debug/plugins')).json().scheduler[0].errors, answers.length);
});

t.test("score: an answer that is not a number is the plugin's error and gives no score", async (t) => {
  const odd: SchedulerPlugin = { name: () => 'odd', score: () => ({ score: 90 }) as never };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [odd] }, cluster });
  const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(chatPod, ['n1']) });
  t.same(res.json(), [{ Host: 'n1', Score: 10 }], 'the only node is the best on the wire');
  t.equal((await app.inject('/debug/plugins')).json().scheduler[0].errors, 1);
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.equal(trace.nodes.n1.score, 50, 'neutral, not 90');
  t.same(trace.nodes.n1.scores, { odd: null });
  t.match(trace.plugins[0].failure, /^error: score\(\) returned \{"score":90\}; expected a number 0\.\.100$/);
});

t.test("guardrail: a result whose reason is not a string, or whose confidence is not a finite number, is the guardrail's error", async (t) => {
  for (const answer of [
    { passed: false, action: 'block', reason: { why: 'pii' } },
    { passed: false, action: 'block', confidence: Number.NaN },
  ]) {
    const odd: Guardrail = { name: () => 'odd', getType: () => 'pii', check: () => answer as never };
    const { app } = await buildTestApp(t, { plugins: { guardrail: [odd] } });
    const res = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'hello' } });
    t.equal(res.statusCode, 200);
    t.notMatch(res.body, /object Object/);
    const verdict = res.json().verdicts[0];
    t.same([verdict.plugin, verdict.action], ['odd', null], 'skipped under Ignore, as a failure');
    t.match(verdict.failure, /^error: check\(\) returned .*; expected \{passed: boolean, action: .*reason\?: string/);

    const fail = await buildTestApp(t, { plugins: { guardrail: [odd] }, config: { 'guardrail-plugins': [{ name: 'odd', failurePolicy: 'Fail' }] } });
    const failed = await fail.app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'hello' } });
    t.equal(failed.statusCode, 500);
    t.match(failed.json().message, /guardrail plugin "odd" failed: check\(\) returned/);
  }
});

t.test("autoscaler and metrics provider: answers of the wrong type are reported as that plugin's failure", async (t) => {
  const odd: AutoscalerPlugin = { name: () => 'odd', getMetricNames: () => [], calculateReplicas: () => ({ replicas: 3 }) as never };
  const source: MetricsProvider = { name: () => 'source', listMetrics: () => ['queue-depth'], getMetric: () => '12' as never };
  const { app } = await buildTestApp(t, { plugins: { autoscaler: [odd], 'metrics-provider': [source] }, cluster });
  const res = await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/chat?currentReplicas=2&dryRun=true' });
  t.equal(res.statusCode, 200, 'answers 200');
  t.notMatch(res.body, /object Object/);
  const body = res.json();
  t.match(body.recommendations[0], {
    plugin: 'odd',
    status: 'failed',
    replicas: null,
    error: 'calculateReplicas() returned {"replicas":3}; expected a finite number >= 0',
  });
  t.match(body.metrics[0], {
    type: 'queue-depth',
    status: 'failed',
    source: 'source',
    reason: 'failed: getMetric(queue-depth) returned "12"; expected a finite number >= 0 or undefined',
  });
});
