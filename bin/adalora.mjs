#!/usr/bin/env node
// `adalora <command>`: `worker` runs the worker app, everything else (coordinator, run, merge,
// predict, help — `help worker` too: the coordinator app lists the worker command) the
// coordinator app. TypeScript runs through tsx, so there is no build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// tsx looks for tsconfig.json (the @adalora/* paths) in the working directory: point it at the
// project's own, so `adalora` works from any folder (and the worker processes it starts inherit it)
process.env.TSX_TSCONFIG_PATH ??= fileURLToPath(new URL('../tsconfig.json', import.meta.url));
register();
const [command] = process.argv.slice(2);
const app = command === 'worker' ? '../apps/worker/src/main.ts' : '../apps/coordinator/src/main.ts';
if (command === 'worker') process.argv.splice(2, 1);
await import(new URL(app, import.meta.url).href);
