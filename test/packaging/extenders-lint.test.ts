import { join } from 'node:path';
import { ESLint } from 'eslint';
import t from 'tap';

const root = join(import.meta.dirname, '..', '..');

/** Lints `code` as if it were a file at `path` in the repository, with the repository's config. */
async function flagged(rule: string, path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: root }).lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
}
const restrictedImports = (path: string, code: string): Promise<string[]> => flagged('no-restricted-imports', path, code);

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

t.test('extenders keep no module-level mutable state; constants and instance state are fine', async (t) => {
  const stateful = [
    'let last: string | undefined;',
    'export let counter = 0;',
    'const cache = new WeakMap<object, number>();',
    'export const byName = new Map<string, number>();',
    "const NVLINK: ReadonlySet<string> = new Set(['nvlink']);",
    'export function make() { let seen = 0; const memo = new Map<string, number>(); return () => memo.set(String(++seen), seen); }',
    'export const used = [last, cache, NVLINK];',
    '',
  ].join('\n');
  const messages = await flagged('no-restricted-syntax', 'extenders/builtin/scheduler/example.ts', stateful);
  t.equal(messages.length, 4, 'the two lets and the two module-level maps; not the constant set, not state inside a function');
  for (const m of messages) t.match(m, /no module-level mutable state in extenders/);
  t.same(await flagged('no-restricted-syntax', 'src/example.ts', stateful), [], 'src/ is the framework: it owns caches');
});
