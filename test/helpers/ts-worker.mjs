// Worker entry that can run a TypeScript module: registers tsx in this thread, then imports
// the module named in workerData.module (a file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
