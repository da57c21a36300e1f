#!/usr/bin/env node
// `adalora worker`: the command lives in @adalora/worker, which also starts it as a child
// process for `adalora run`; this app only runs it.
import { runWorkerCli } from '@adalora/worker';

await runWorkerCli(process.argv);
