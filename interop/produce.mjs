// The JavaScript producers of the interop matrix (see matrix.py):
//   node produce.mjs node   the Node binding, on REDIS_URL
//   node produce.mjs edge   the edge package (wasm), over the REST transport through
//                           redkit-gateway (INTEROP_GATEWAY_URL, INTEROP_GATEWAY_TOKEN)
// Both have the same queue API: add the batch to each worker runtime's queue, read every
// job back with getJob, compare its data and result exactly. Prints
// `PAIR <node|edge> <worker> ok|FAIL <why>` per worker; exits 1 on any difference.

import { batch as readBatch, difference } from './compare.mjs';

const DEADLINE_MS = 60_000;
const runtime = process.argv[2];

async function connect() {
  if (runtime === 'node') {
    const { Client } = await import('../bindings-node/redkit.mjs');
    return Client.connect(process.env.REDIS_URL);
  }
  if (runtime === 'edge') {
    const { Client } = await import('../wasm/js/index.js');
    return Client.rest({ url: process.env.INTEROP_GATEWAY_URL, token: process.env.INTEROP_GATEWAY_TOKEN });
  }
  throw new Error(`usage: node produce.mjs node|edge (got ${runtime})`);
}

function check(job, c, worker) {
  if (job === null) return 'the job is gone';
  if (job.failedReason !== null && job.failedReason !== undefined) return `job ${job.id} failed: ${job.failedReason}`;
  return (
    difference(c.data, job.data, 'data') ??
    difference({ worker, name: c.name, data: c.data }, job.returnValue, 'result')
  );
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const batch = readBatch();
  const workers = process.env.INTEROP_WORKERS.split(',');
  const client = await connect();
  const ids = {};
  for (const w of workers) {
    const queue = client.queue(`interop-to-${w}`);
    // One job through add, the rest through addBulk: both paths encode the data.
    const first = await queue.add(batch[0].name, batch[0].data);
    const rest = await queue.addBulk(batch.slice(1).map((c) => ({ name: c.name, data: c.data })));
    ids[w] = [first.id, ...rest.map((j) => j.id)];
  }

  const deadline = Date.now() + DEADLINE_MS;
  let failed = false;
  for (const w of workers) {
    const queue = client.queue(`interop-to-${w}`);
    const problems = [];
    for (const [i, c] of batch.entries()) {
      let job = await queue.getJob(ids[w][i]);
      while (job !== null && job.finishedOn == null && Date.now() < deadline) {
        await sleep(20);
        job = await queue.getJob(ids[w][i]);
      }
      if (job !== null && job.finishedOn == null) {
        problems.push(`${c.name}: not finished after ${DEADLINE_MS / 1000} s`);
        continue;
      }
      const why = check(job, c, w);
      if (why) problems.push(`${c.name}: ${why}`);
    }
    failed ||= problems.length > 0;
    console.log(`PAIR ${runtime} ${w} ${problems.length ? `FAIL ${problems.join('; ')}` : `ok ${batch.length} jobs`}`);
  }
  await client.close();
  // Exit now: the edge package's REST client leaves each request's timeout timer running
  // after the request is done, which would hold the process for its `timeout` (5 s).
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
