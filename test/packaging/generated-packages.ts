/**
 * One package per plugin type as `neuronetes plugin new` writes it, plus examples/plugin-package, in a
 * temp folder with what `npm install` would provide (neuronetes being this repository).
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pluginPackage, writePluginPackage, type ScaffoldVersions } from '../../src/scaffold/plugin-package.ts';
import { PLUGIN_TYPES } from '../../src/plugins/types.ts';
import { tempDir, type Teardown } from '../helpers/test-app.ts';

const exec = promisify(execFile);
export const ROOT = join(import.meta.dirname, '..', '..');
export const EXAMPLE = join(ROOT, 'examples', 'plugin-package');
export const VERSIONS: ScaffoldVersions = { neuronetes: '^0.1.0', typebox: '^1.4.3', typescript: '5.9', typesNode: '^24.19.2' };

export async function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (e: unknown) {
    const err = e as { code: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? err.message}` };
  }
}

/** The folder holding the packages, and each package's folder (the five types, then `example`). */
export async function generatedPackages(t: Teardown): Promise<{ dir: string; folders: string[] }> {
  const dir = await tempDir(t, 'neuronetes-plugin-new-');
  for (const type of PLUGIN_TYPES) await writePluginPackage(join(dir, type), pluginPackage(type, `my-${type}`, VERSIONS));
  await mkdir(join(dir, 'node_modules'));
  for (const name of ['typebox', '@types']) await symlink(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  await symlink(ROOT, join(dir, 'node_modules', 'neuronetes'));
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'test'])
    await cp(join(EXAMPLE, f), join(dir, 'example', f), { recursive: true });
  return { dir, folders: [...PLUGIN_TYPES.map((type) => join(dir, type)), join(dir, 'example')] };
}
