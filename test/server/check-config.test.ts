/** `neuronetes check-config`: the config loaded as serve loads it, every plugin's settings checked. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { neuronetes, ROOT as root } from '../helpers/cli.ts';
import { tempDir } from '../helpers/test-app.ts';

t.test('check-config validates the shipped config and rejects a bad one', async (t) => {
  const ok = await neuronetes('check-config', '--config', join(root, 'examples', 'config', 'neuronetes.yaml'));
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /neuronetes.yaml: valid; enabled plugins:/);
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'scheduler-plugins: [{name: no-such-plugin}]\n');
  const res = await neuronetes('check-config', '--config', bad);
  t.equal(res.code, 1);
  t.match(res.stderr, /unknown plugin "no-such-plugin"/);
});

t.test('check-config rejects every bad built-in plugin setting, naming the plugin, key, value and what is allowed', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(
    bad,
    `scheduler-plugins:
  - { name: gpu-fit, config: { strategy: bogus } }
  - { name: cost, config: { referenceCostPerHour: -3 } }
guardrail-plugins:
  - { name: pii-regex, config: { action: shout } }
model-loader-plugins:
  - { name: https, config: { connections: 0 } }
`,
  );
  const res = await neuronetes('check-config', '--config', bad);
  t.equal(res.code, 1);
  t.match(res.stderr, 'scheduler-plugins "gpu-fit": config.strategy is "bogus"; allowed values: "pack", "spread"');
  t.match(res.stderr, 'scheduler-plugins "cost": config.referenceCostPerHour is -3; it must be > 0');
  t.match(res.stderr, 'guardrail-plugins "pii-regex": config.action is "shout"; allowed values: "redact", "block", "warn", "log"');
  t.match(res.stderr, 'model-loader-plugins "https": config.connections is 0; it must be >= 1');
});
