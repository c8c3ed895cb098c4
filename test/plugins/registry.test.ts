import { pino } from 'pino';
import t from 'tap';
import { PluginRegistrationError, PluginRegistry, getGlobalRegistry } from '../../src/plugins/registry.ts';
import { PluginSet } from '../../src/plugins/plugin-set.ts';
import { resolveConfig, ConfigError } from '../../src/config/parse-config.ts';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';

const silent = pino({ level: 'silent' });

const sched = (name: string, priority?: number): SchedulerPlugin => ({
  name: () => name,
  ...(priority !== undefined ? { priority: () => priority } : {}),
  filter: () => true,
});

t.test('getSchedulers() is sorted by priority, highest first, ties by name', async (t) => {
  const r = new PluginRegistry();
  for (const p of [sched('b', 100), sched('a', 100), sched('low', 1), sched('high', 500), sched('default')]) r.register('scheduler', p);
  t.same(
    r.getSchedulers().map((p) => p.name()),
    ['high', 'a', 'b', 'default', 'low'],
  );
});

t.test('duplicate names are rejected, naming the first registration', async (t) => {
  const r = new PluginRegistry();
  r.register('scheduler', sched('gpu-fit'), 'pkg-one');
  t.throws(() => r.register('scheduler', sched('gpu-fit'), 'pkg-two'), {
    name: 'PluginRegistrationError',
    message: 'duplicate scheduler plugin "gpu-fit": already registered by pkg-one',
  });
  t.doesNotThrow(
    () => r.register('guardrail', { name: () => 'gpu-fit', check: () => ({ passed: true, action: 'allow' }), getType: () => 'x' }),
    'names are per type',
  );
});

t.test('invalid plugins are rejected with a clear error', async (t) => {
  const r = new PluginRegistry();
  const bad: [string, unknown, RegExp][] = [
    ['null', null, /expected an object, got null/],
    ['no name', { filter: () => true }, /has no name\(\) method/],
    ['bad name', { name: () => 'Bad Name', filter: () => true }, /name\(\) returned "Bad Name"/],
    ['no methods', { name: () => 'empty' }, /needs a filter\(\), score\(\) or allowEviction\(\) method/],
    ['float priority', { name: () => 'p', priority: () => 1.5, filter: () => true }, /priority\(\) returned 1.5/],
  ];
  for (const [what, plugin, message] of bad) t.throws(() => r.register('scheduler', plugin as SchedulerPlugin), message, what);
  t.doesNotThrow(() => r.register('scheduler', { name: () => 'veto-only', allowEviction: () => true }), 'a preempt-only plugin is enough');
  t.throws(() => r.register('autoscaler', { name: () => 'a', getMetricNames: () => [] } as never), /autoscaler plugin "a" has no calculateReplicas\(\) method/);
  t.throws(() => r.register('metrics-provider', { name: () => 'm', getMetric: () => 1 } as never), PluginRegistrationError);
});

t.test('the global registry is one per process', async (t) => {
  t.equal(getGlobalRegistry(), getGlobalRegistry());
});

t.test('PluginSet: config priority wins, disabled plugins leave the chain but stay listed', async (t) => {
  const r = new PluginRegistry();
  for (const p of [sched('a', 10), sched('b', 20), sched('c', 30)]) r.register('scheduler', p);
  const set = PluginSet.build(
    r,
    resolveConfig({
      'scheduler-plugins': [
        { name: 'a', priority: 99 },
        { name: 'c', enabled: false },
      ],
    }),
    silent,
  );
  t.same(
    set.all('scheduler').map((p) => `${p.name}:${p.priority}:${p.settings.enabled}`),
    ['a:99:true', 'c:30:false', 'b:20:true'],
  );
  t.same(
    set.enabled('scheduler').map((p) => p.name),
    ['a', 'b'],
  );
});

t.test('PluginSet: a config naming an unknown plugin is an error listing the known ones', async (t) => {
  const r = new PluginRegistry();
  r.register('scheduler', sched('gpu-fit'));
  t.throws(() => PluginSet.build(r, resolveConfig({ 'scheduler-plugins': [{ name: 'gpu-fitt' }] }), silent), {
    name: 'ConfigError',
    message: 'invalid config: scheduler-plugins names unknown plugin "gpu-fitt"; registered scheduler plugins: gpu-fit',
  });
  t.type(ConfigError, 'function');
});
