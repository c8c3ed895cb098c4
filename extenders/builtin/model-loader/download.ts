/** What the built-in loaders share: writing a stream to a file under the model's folder, safely. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ByteBudget, ModelLoaderContext, SettingDefaults } from 'neuronetes';

/** Model weights take minutes to download, not the guide's 5s. */
export const LOADER_DEFAULTS: SettingDefaults = { timeout: '30m' };

/** Every built-in loader's unload(): the model's folder in the node cache goes. */
export const removeModelFolder = (ctx: ModelLoaderContext): Promise<void> => rm(ctx.cachePath, { recursive: true, force: true });

/** True when `target` (an absolute, normalised path) is `root` itself or below it. */
export function isInside(root: string, target: string): boolean {
  const back = relative(root, target);
  return back === '' || (back !== '..' && !back.startsWith(`..${sep}`) && !isAbsolute(back));
}

/**
 * `root/rel`, refusing names that would land outside root (`../x`, absolute keys): object keys and
 * manifest entries come from outside.
 */
export function fileUnder(root: string, rel: string): string {
  const target = resolve(root, rel);
  if (target === root || !isInside(root, target) || rel.includes('\0')) {
    throw new Error(`refusing to write ${JSON.stringify(rel)}: it is not a file inside the model folder`);
  }
  return target;
}

export interface Written {
  readonly bytes: number;
  readonly sha256: string;
}

export interface WriteOptions {
  readonly signal: AbortSignal;
  /** The load's share of Model.spec.size: the write stops as soon as the load passes it. */
  readonly budget: ByteBudget;
  /** The size the source announced or the manifest promised: a truncated body must never pass for a model. */
  readonly expectedBytes?: number | undefined;
}

/**
 * Streams `source` into `path` (creating its folder), hashing as it goes. Fails when `signal` aborts,
 * when the load's budget runs out, or when the byte count is not `expectedBytes`.
 */
export async function writeFile(source: AsyncIterable<Uint8Array>, path: string, { signal, budget, expectedBytes }: WriteOptions): Promise<Written> {
  if (expectedBytes !== undefined) budget.reserve(expectedBytes);
  await mkdir(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    source,
    async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        budget.take(chunk.length);
        bytes += chunk.length;
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(path),
    { signal },
  );
  if (expectedBytes !== undefined && bytes !== expectedBytes) throw new Error(`${path}: got ${bytes} bytes, expected ${expectedBytes}`);
  return { bytes, sha256: hash.digest('hex') };
}
