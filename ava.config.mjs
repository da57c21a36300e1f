// One ava config for the workspace; each project's `test` target passes its own folder.
export default {
  files: ['apps/*/src/**/*.test.ts', 'libs/*/src/**/*.test.ts', 'tools/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  // tfjs (wasm backend) keeps process-wide state: run each test file in its own process.
  workerThreads: false,
  concurrency: 2,
  timeout: '10m',
};
