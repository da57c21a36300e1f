// The worker process's entry module: what `spawnWorkerProcess` runs (and what `adalora worker`
// runs through apps/worker). Nothing else imports it.
import { runWorkerCli } from './worker-cli';

await runWorkerCli(process.argv);
