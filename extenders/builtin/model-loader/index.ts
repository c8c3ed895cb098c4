/** The built-in model loaders, one per weightsURI scheme they handle. */
import { registerModelLoader } from '../../../src/index.ts';
import { FileModelLoader } from './file-loader.ts';
import { HttpsModelLoader } from './https-loader.ts';
import { S3ModelLoader } from './s3-loader.ts';

registerModelLoader(new FileModelLoader());
registerModelLoader(new HttpsModelLoader());
registerModelLoader(new S3ModelLoader());
