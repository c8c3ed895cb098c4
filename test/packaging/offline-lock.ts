/**
 * A package-lock.json that lets `npm ci --offline` install a packed `neuronetes` tarball into a
 * third-party package: the npm cache holds the tarballs this repository's lock pins (by integrity)
 * but not the registry metadata a fresh resolution would need, so the lock must name every package.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Where Node would find `name` from the package installed at `from` (`''` is the root). */
function locate(packages: Readonly<Record<string, LockEntry>>, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const path = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (packages[path] !== undefined) return path;
    if (dir === '') return undefined;
  }
}

/**
 * The lock for `plugin` (its package.json) with `neuronetes` from `tarball` (a path relative to the
 * plugin's folder) and every other package as `repoLock` pins it.
 */
export async function offlineLock(
  plugin: Manifest,
  tarballPath: string,
  tarballSpec: string,
  packed: Manifest,
  repoLock: { packages: Record<string, LockEntry> },
): Promise<object> {
  const integrity = `sha512-${createHash('sha512')
    .update(await readFile(tarballPath))
    .digest('base64')}`;
  const packages: Record<string, LockEntry> = { ...repoLock.packages };
  const { name: _name, version, dependencies, peerDependencies } = packed;
  packages['node_modules/neuronetes'] = {
    version,
    resolved: tarballSpec,
    integrity,
    ...(dependencies !== undefined ? { dependencies } : {}),
    ...(peerDependencies !== undefined ? { peerDependencies } : {}),
  };
  const root = { name: plugin.name, version: plugin.version, devDependencies: plugin.devDependencies, peerDependencies: plugin.peerDependencies };
  const wanted: Record<string, LockEntry> = {};
  // [installed at, names it needs, names it may do without (optional and peer dependencies)]
  const queue: [string, string[], string[]][] = [['', Object.keys({ ...plugin.devDependencies, ...plugin.peerDependencies }), []]];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [from, required, optional] = next;
    for (const dep of [...required, ...optional]) {
      const path = locate(packages, from, dep);
      if (path === undefined && optional.includes(dep)) continue;
      if (path === undefined) throw new Error(`${dep} (needed by ${from === '' ? plugin.name : from}) is not in this repository's package-lock.json`);
      if (wanted[path] !== undefined) continue;
      const entry = packages[path] as LockEntry;
      wanted[path] = { ...entry, dev: true };
      queue.push([path, Object.keys(entry.dependencies ?? {}), Object.keys({ ...entry.optionalDependencies, ...entry.peerDependencies })]);
    }
  }
  return { name: plugin.name, version: plugin.version, lockfileVersion: 3, requires: true, packages: { '': root, ...wanted } };
}
