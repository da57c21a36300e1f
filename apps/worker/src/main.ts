#!/usr/bin/env node
// `adalora worker`: the command lives in @adalora/worker, which also starts it as a child
// process for `adalora run`; this app only runs it. The lib's index loads no tfjs, so flags are
// parsed and checked before the backend loads.
import { runWorkerCli } from '@adalora/worker';

await runWorkerCli(process.argv);
