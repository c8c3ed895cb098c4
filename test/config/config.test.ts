import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parseConfigText, readConfig, resolveConfig } from '../../src/config/parse-config.ts';
import { resolvePluginSettings } from '../../src/config/plugin-settings.ts';
import { tempDir } from '../helpers/test-app.ts';

t.test('defaults: plugin guide timeout, Ignore, enforce, weight 1; 3s request budget', async (t) => {
  const c = resolveConfig({ 'scheduler-plugins': [{ name: 'x' }] });
  t.same(resolvePluginSettings(c.plugins.scheduler.get('x'), undefined, {}), {
    enabled: true,
    priority: undefined,
    weight: 1,
    timeoutMs: 5000,
    failurePolicy: 'Ignore',
    optional: false,
    mode: 'enforce',
    config: {},
  });
  t.same(c.scheduler, { requestBudgetMs: 3000, unknownPool: 'neutral', traceSize: 100, traceBytes: 16 * 1024 * 1024, wireScores: 'relative' });
});

t.test("the plugin guide's ConfigMap, verbatim, is a valid config", async (t) => {
  const c = parseConfigText(`apiVersion: v1
kind: ConfigMap
metadata:
  name: plugin-config
data:
  scheduler-plugins: |
    - name: custom-scheduler
      enabled: true
      priority: 200
      config:
        custom-param: value
`);
  t.same(c.plugins.scheduler.get('custom-scheduler')?.config, { 'custom-param': 'value' });
  t.equal(c.plugins.scheduler.get('custom-scheduler')?.priority, 200);
});

t.test('bad configs are clear errors', async (t) => {
  const bad: [string, RegExp][] = [
    ['scheduler-plugins: [{name: a, timeout: soon}]', /\/scheduler-plugins\/0\/timeout: must match pattern/],
    ['scheduler-plugins: [{name: a, failurePolicy: Retry}]', /failurePolicy/],
    ['scheduler-plugins: [{name: a, weight: -1}]', /weight: must be >= 0/],
    ['scheduler-plugins: [{name: a, enabled: "yes"}]', /enabled: must be boolean/],
    ['scheduler-plugins: [{name: a, colour: red}]', /additionalProperties/],
    ['schedulr-plugins: []', /additionalProperties.*schedulr-plugins/],
    ['scheduler-plugins: [{name: a}, {name: a}]', /lists "a" twice/],
    ['scheduler: {requestBudget: 1y}', /requestBudget/],
    ['scheduler: {wireScores: rounded}', /\/scheduler\/wireScores/],
    ['scheduler-plugins: [name: a', /not valid YAML/],
  ];
  for (const [text, message] of bad) t.throws(() => parseConfigText(text), message, text);
});

t.test("a mounted ConfigMap folder: one file per key, Kubernetes' ..data links skipped", async (t) => {
  const dir = await tempDir(t);
  const data = join(dir, '..2026_11_25');
  await mkdir(data);
  await writeFile(join(data, 'scheduler-plugins'), '- name: gpu-fit\n  weight: 30\n');
  await writeFile(join(data, 'plugins'), '- ./my-plugin.ts\n');
  await symlink(data, join(dir, '..data'));
  await symlink(join('..data', 'scheduler-plugins'), join(dir, 'scheduler-plugins'));
  await symlink(join('..data', 'plugins'), join(dir, 'plugins'));
  const c = await readConfig(dir, ['extra-plugin']);
  t.equal(c.plugins.scheduler.get('gpu-fit')?.weight, 30);
  t.same(c.modules, ['./my-plugin.ts', 'extra-plugin'], "NEURONETES_PLUGINS modules come after the config's");
});

t.test('readConfig: missing files and bad YAML in a folder are clear errors', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(readConfig(join(dir, 'nope.yaml')), /cannot read config .*nope.yaml/);
  await writeFile(join(dir, 'scheduler-plugins'), '- [');
  await t.rejects(readConfig(dir), /scheduler-plugins is not valid YAML/);
});

t.test('an empty config file is an error, not the defaults', async (t) => {
  const dir = await tempDir(t);
  for (const [name, text] of [
    ['empty.yaml', ''],
    ['blank.yaml', ' \n\n'],
    ['comments.yaml', '# nothing yet\n'],
  ] as const) {
    await writeFile(join(dir, name), text);
    await t.rejects(readConfig(join(dir, name)), new RegExp(`${name} is empty \\(no YAML document\\); write \\{\\} for the defaults`));
  }
  await writeFile(join(dir, 'defaults.yaml'), '{}\n');
  t.equal((await readConfig(join(dir, 'defaults.yaml'))).scheduler.requestBudgetMs, 3000, '{} is the defaults');
});
