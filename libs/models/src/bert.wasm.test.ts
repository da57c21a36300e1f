import test from 'ava';
import '@tensorflow/tfjs-backend-wasm';
import { registerBackendSuite } from '@adalora/test-support';

registerBackendSuite(test, 'wasm');
