/** Writes manifests/crds/*.yaml from the TypeBox schemas (`npm run generate:crds`). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdManifests, renderCrd } from '../src/api/crd-manifests.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'manifests', 'crds');
await mkdir(dir, { recursive: true });
for (const manifest of crdManifests()) {
  await writeFile(join(dir, manifest.file), renderCrd(manifest));
  process.stdout.write(`wrote manifests/crds/${manifest.file}\n`);
}
