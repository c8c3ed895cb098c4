/**
 * Imports plugin modules so they register themselves — the TypeScript counterpart of Go's
 * `import _ ".../myplugin"`. Specifiers are npm packages, file paths (relative to the config file's
 * folder), or `neuronetes:<path>` for modules shipped in this package's `extenders/` folder
 * (`<path>.js`, or `<path>/index.js` for a plugin in a folder of its own).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../config/parse-config.ts';
import type { PluginRegistry } from './registry.ts';

const PACKAGE_PREFIX = 'neuronetes:';
/** `extenders/` beside `src/`, whether running from source or from `dist/`. */
const EXTENDERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'extenders');
/** Running from source, modules end in .ts; compiled, in .js. */
const OWN_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The built-in plugins, always loaded. */
export const BUILTIN_MODULE = `${PACKAGE_PREFIX}builtin/index`;

export function resolveModuleSpecifier(spec: string, baseDir: string): string {
  if (spec.startsWith(PACKAGE_PREFIX)) {
    const path = join(EXTENDERS_DIR, spec.slice(PACKAGE_PREFIX.length));
    const file = [`${path}${OWN_EXTENSION}`, join(path, `index${OWN_EXTENSION}`)].find((f) => existsSync(f));
    if (file === undefined) throw new ConfigError(`cannot load plugin module "${spec}": no such module in this package (${path}${OWN_EXTENSION})`);
    return pathToFileURL(file).href;
  }
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(baseDir, spec)).href;
  return spec;
}

/** Imports each module once per process; later calls with the same specifier do nothing. */
export class PluginModuleLoader {
  readonly #registry: PluginRegistry;
  readonly #loaded = new Set<string>();

  constructor(registry: PluginRegistry) {
    this.#registry = registry;
  }

  async load(specs: readonly string[], baseDir: string): Promise<void> {
    for (const spec of specs) {
      const url = resolveModuleSpecifier(spec, baseDir);
      if (this.#loaded.has(url)) continue;
      try {
        await this.#registry.withSource(spec, () => import(url));
      } catch (e: unknown) {
        throw new ConfigError(`cannot load plugin module "${spec}": ${(e as Error).message}`, { cause: e });
      }
      this.#loaded.add(url);
    }
  }

  get loaded(): readonly string[] {
    return [...this.#loaded];
  }
}
