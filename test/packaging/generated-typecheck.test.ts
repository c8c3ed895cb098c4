/** Every package `plugin new` writes, and the example package, type-check against this repository's sources. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { generatedPackages, ROOT, run } from './generated-packages.ts';

t.test('every type, and the example package, type-check against the sources', async (t) => {
  const { dir, folders } = await generatedPackages(t);
  const check = {
    extends: './scheduler/tsconfig.json',
    compilerOptions: {
      // This repository's sources, not a dist/ that may be stale or missing.
      paths: { neuronetes: [join(ROOT, 'src', 'index.ts')], 'neuronetes/testing': [join(ROOT, 'src', 'testing', 'index.ts')] },
      typeRoots: [join(dir, 'node_modules', '@types')],
    },
    include: folders.flatMap((f) => [join(f, 'src'), join(f, 'test')]),
  };
  await writeFile(join(dir, 'tsconfig.check.json'), JSON.stringify(check));
  const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.check.json'], dir);
  t.equal(tsc.code, 0, `tsc: ${tsc.output}`);
});
