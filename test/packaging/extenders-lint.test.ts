import { join } from 'node:path';
import { ESLint } from 'eslint';
import t from 'tap';

const root = join(import.meta.dirname, '..', '..');

/** Lints `code` as if it were a file at `path` in the repository, with the repository's config. */
async function restrictedImports(path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: root }).lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const code = [
  "import type { Pod } from '../../../src/api/kubernetes.ts';",
  "export { SKIP } from '../../../src/index.ts';",
  "import { definePlugin } from 'neuronetes';",
  "import { Type } from 'typebox';",
  "import { helper } from './helper.ts';",
  'export type P = Pod;',
  'export const used = [definePlugin, Type, helper];',
  '',
].join('\n');

t.test('extenders may import the public entry, packages and each other, never src/', async (t) => {
  const messages = await restrictedImports('extenders/contrib/example/index.ts', code);
  t.equal(messages.length, 2, 'the type import and the re-export of src/ are both flagged');
  for (const m of messages) t.match(m, /extenders import only the public entry 'neuronetes'/);
});

t.test('src/ and tests are not held to the rule', async (t) => {
  t.same(await restrictedImports('test/plugins/example.test.ts', code), []);
});
