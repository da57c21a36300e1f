#!/usr/bin/env node
// `adalora <command>`: `worker` runs the worker app, everything else (coordinator, run, help)
// the coordinator app. TypeScript runs through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const [command] = process.argv.slice(2);
const app = command === 'worker' ? '../apps/worker/src/main.ts' : '../apps/coordinator/src/main.ts';
if (command === 'worker') process.argv.splice(2, 1);
await import(new URL(app, import.meta.url).href);
