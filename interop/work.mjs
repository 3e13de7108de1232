// The Node worker of the interop matrix and the chaos run: processes INTEROP_QUEUE on
// REDIS_URL until SIGTERM/SIGINT, answering each job with { worker: 'node', name, data }.
// A job of the matrix's batch (INTEROP_BATCH) whose data is not exactly the batch's fails,
// naming the difference: what a producer sent is checked on arrival too.
//
// With INTEROP_RUNS_DIR set (the chaos run) each run also takes 5-25 ms and appends the job
// id to a file of its own in that directory before it returns, so the driver counts every
// run, duplicates included, even of a process it SIGKILLs.

import { openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Client, RedkitError } from '../bindings-node/redkit.mjs';
import { batch, difference } from './compare.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Connect, retrying for up to 30 s while the server is away or still loading its data
 *  (the chaos run restarts it). */
async function connect(url) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await Client.connect(url);
    } catch (err) {
      if (!(err instanceof RedkitError) || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

const client = await connect(process.env.REDIS_URL);
const runsDir = process.env.INTEROP_RUNS_DIR;
const runs = runsDir ? openSync(path.join(runsDir, `node-${process.pid}.log`), 'a') : null;

const cases = new Map(batch().map((c) => [c.name, c.data]));

const worker = client.worker(
  process.env.INTEROP_QUEUE,
  async (job) => {
    if (cases.has(job.name)) {
      const why = difference(cases.get(job.name), job.data, 'data');
      if (why) throw new Error(`the node worker received other data: ${why}`);
    }
    if (runs !== null) {
      await sleep(5 + Math.random() * 20);
      // One write(2) per run: in the file once it returns, whatever kills us later.
      writeSync(runs, `${job.id}\n`);
    }
    return { worker: 'node', name: job.name, data: job.data };
  },
  { concurrency: 4, lockDuration: 1000, stalledInterval: 500, maxStalledCount: 1000 },
);
worker.on('error', (err) => console.error('worker error:', err));

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.once(sig, async () => {
    await worker.close();
    await client.close();
  });
}
