/**
 * The plugin guide's model loader example: `s3-loader`, priority 100, loads `s3://` weightsURIs into
 * the node's cache and removes them on unload. It is the built-in S3 loader
 * (extenders/builtin/model-loader/s3-loader.ts, AWS SDK v3) under the guide's name and priority, so
 * it takes the same config (endpoint, region, forcePathStyle, credentials); enabled, it runs before
 * the built-in `s3` loader (priority 50).
 *
 * Load it with `plugins: [neuronetes:examples/s3-loader]` and enable it under
 * `model-loader-plugins:`; the shipped config loads it disabled.
 */
import { registerPlugin } from 'neuronetes';
import { s3Loader } from '../builtin/model-loader/s3-loader.ts';

registerPlugin({ ...s3Loader, name: 's3-loader', priority: 100 });
