/**
 * Built-in `file` loader: copies a `file://` folder (or single file) on the node, e.g. a volume
 * seeded with weights, into the model cache.
 */
import { cp, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model, ModelLoader, ModelLoaderContext, PluginContext } from '../../../src/index.ts';

export class FileModelLoader implements ModelLoader {
  name(): string {
    return 'file';
  }

  priority(): number {
    return 50;
  }

  canLoad(_ctx: PluginContext, model: Model): boolean {
    return model.spec.weightsURI.startsWith('file://');
  }

  async load(ctx: ModelLoaderContext, model: Model): Promise<void> {
    const source = fileURLToPath(model.spec.weightsURI);
    const info = await stat(source);
    const target = info.isDirectory() ? ctx.cachePath : join(ctx.cachePath, basename(source));
    await cp(source, target, {
      recursive: true,
      // cp has no signal: stop at the next entry once the deadline has passed.
      filter: () => {
        ctx.signal.throwIfAborted();
        return true;
      },
    });
  }

  async unload(ctx: ModelLoaderContext): Promise<void> {
    await rm(ctx.cachePath, { recursive: true, force: true });
  }
}
