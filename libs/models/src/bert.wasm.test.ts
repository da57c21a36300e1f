import '@tensorflow/tfjs-backend-wasm';
import { registerBackendSuite } from './bert-backend-suite';

registerBackendSuite('wasm');
