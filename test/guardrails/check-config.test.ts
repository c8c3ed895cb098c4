/** `neuronetes check-config` rejects bad built-in guardrail and loader settings before anything runs. */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { tempDir } from './harness.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

t.test('check-config names the plugin, key, value and allowed values of a bad guardrail or loader setting', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(
    bad,
    `guardrail-plugins:
  - { name: pii-regex, config: { action: shout } }
model-loader-plugins:
  - { name: https, config: { connections: 0 } }
`,
  );
  const res = await run(process.execPath, [join(root, 'src', 'cli.ts'), 'check-config', '--config', bad], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'silent' },
  }).then(
    () => ({ code: 0, stderr: '' }),
    (e: unknown) => e as { code: number; stderr: string },
  );
  t.equal(res.code, 1);
  t.match(res.stderr, 'guardrail-plugins "pii-regex": config.action is "shout"; allowed values: "redact", "block", "warn", "log"');
  t.match(res.stderr, 'model-loader-plugins "https": config.connections is 0; it must be >= 1');
});
