/** Every package `plugin new` writes, and the example package, passes its own tests unchanged. */
import { join } from 'node:path';
import t from 'tap';
import { generatedPackages, run } from './generated-packages.ts';

t.test('every type, and the example package, pass their tests', async (t) => {
  const { dir, folders } = await generatedPackages(t);
  // npm test as written; NODE_OPTIONS (the test runner's) carries the neuronetes-source condition.
  const test = await run('npm', ['test'], join(dir, 'scheduler'));
  t.equal(test.code, 0, `npm test in the generated scheduler package: ${test.output}`);
  t.match(test.output, /(#|ℹ) pass 1\b/);
  const others = folders.filter((f) => !f.endsWith('scheduler')).map((f) => join(f, 'test', '*.test.ts'));
  // One process for the rest: each would load the service's sources again.
  const rest = await run(process.execPath, ['--test', '--test-isolation=none', ...others], dir);
  t.equal(rest.code, 0, `the other packages' tests: ${rest.output}`);
  t.match(rest.output, /(#|ℹ) pass 7\b/, 'two tests of the example, two of the autoscaler, one of each other type');
});
