/** What the built-in loaders share: writing a stream to a file under the model's folder, safely. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * `root/rel`, refusing names that would land outside root (`../x`, absolute keys): object keys and
 * manifest entries come from outside.
 */
export function fileUnder(root: string, rel: string): string {
  const target = resolve(root, rel);
  const back = relative(root, target);
  if (back === '' || back.startsWith(`..${sep}`) || back === '..' || resolve(root, back) !== target) {
    throw new Error(`refusing to write ${JSON.stringify(rel)}: it is not a file inside the model folder`);
  }
  return target;
}

export interface Written {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Streams `source` into `path` (creating its folder), hashing as it goes. Fails when `signal` aborts
 * or when the byte count is not `expectedBytes` (a truncated body must never pass for a model).
 */
export async function writeFile(source: AsyncIterable<Uint8Array>, path: string, signal: AbortSignal, expectedBytes?: number): Promise<Written> {
  await mkdir(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    source,
    async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
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
