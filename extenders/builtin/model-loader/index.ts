/** The built-in model loaders, one per weightsURI scheme they handle. */
import { registerPlugin } from 'neuronetes';
import { fileLoader } from './file-loader.ts';
import { httpsLoader } from './https-loader.ts';
import { s3Loader } from './s3-loader.ts';

registerPlugin(fileLoader);
registerPlugin(httpsLoader);
registerPlugin(s3Loader);
