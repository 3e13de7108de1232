// The job queue over both edge transports (REST through redkit-gateway, the adapter over
// ioredis), against a real redis-server: the edge produces and inspects (no worker). Jobs
// added here are read back through the edge and straight from the job hash the core wrote
// (docs/WIRE.md, section Queue), so what a Rust, Python or Node worker reads is checked too.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument, Job, Queue } from 'redkit-wasm';
import { prefix, startServers } from './harness.mjs';

let servers;
before(async () => {
  servers = await startServers();
});
after(async () => {
  await servers?.stop();
});

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'];

for (const transport of ['rest', 'adapter']) {
  describe(`queue over ${transport}`, () => {
    const client = (name) => {
      const p = prefix(name);
      return { p, client: servers.transports[transport](p) };
    };

    test('add stores the job the core reads back: data, options in camelCase, the hash', async () => {
      const { p, client: c } = client('add');
      const q = c.queue('emails', { attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
      assert.ok(q instanceof Queue);
      const data = { to: 'ünï@example.com', n: 2 ** 40, f: 1.5, nested: { a: [1, '', null] } };
      const job = await q.add('welcome', data, { jobId: 'w-1', removeOnComplete: { age: 86_400, count: 10 }, priority: 5 });
      assert.ok(job instanceof Job);
      assert.equal(job.id, 'w-1');
      assert.equal(job.name, 'welcome');
      assert.deepEqual(job.data, data);
      assert.equal(job.attemptsMade, 0);
      assert.ok(job.timestamp > 1_600_000_000_000);
      assert.deepEqual(job.opts, {
        jobId: 'w-1',
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 86_400, count: 10 },
        priority: 5,
      });

      const back = await q.getJob('w-1');
      assert.deepEqual({ ...back }, { ...job });
      assert.equal(await q.getJobState('w-1'), 'waiting');
      assert.equal(await back.state(), 'waiting');
      assert.equal(await q.getJob('nope'), null);

      // The hash as every runtime's worker reads it: same payload bytes, same options.
      const hash = await servers.redis.hgetall(`${p}:{queue:emails}:j:w-1`);
      assert.deepEqual(JSON.parse(hash.data), data);
      assert.equal(hash.name, 'welcome');
      assert.equal(JSON.parse(hash.opts).attempts, 3);
      assert.equal(JSON.parse(hash.opts).remove_on_complete.age, 86_400);

      // The same jobId again is the same job, not a second one.
      const again = await q.add('welcome', { other: true }, { jobId: 'w-1' });
      assert.deepEqual(again.data, data);
      assert.equal((await q.counts()).waiting, 1);
    });

    test('addBulk adds atomically in order; getJobs and counts see them', async () => {
      const { client: c } = client('bulk');
      const q = c.queue('bulk');
      const jobs = await q.addBulk([
        { name: 'a', data: 1 },
        { name: 'b', data: 'two', opts: { delay: 60_000 } },
        { name: 'c', data: null, opts: { priority: 1 } },
        { name: 'd' },
      ]);
      assert.deepEqual(jobs.map((j) => j.name), ['a', 'b', 'c', 'd']);
      assert.deepEqual(jobs.map((j) => j.data), [1, 'two', null, null]);
      assert.equal(new Set(jobs.map((j) => j.id)).size, 4);
      const counts = await q.counts();
      assert.deepEqual(
        Object.fromEntries(STATES.map((s) => [s, counts[s]])),
        { waiting: 3, active: 0, delayed: 1, completed: 0, failed: 0 },
      );
      assert.equal(counts.prioritized, 1);
      assert.equal(counts.paused, undefined);
      assert.deepEqual((await q.getJobs('delayed')).map((j) => j.name), ['b']);
      // Waiting in the order they will run: unprioritized first, then by priority.
      assert.deepEqual((await q.getJobs(['waiting'])).map((j) => j.name), ['a', 'd', 'c']);
      assert.deepEqual((await q.getJobs(['waiting'], 0, 0)).map((j) => j.name), ['a']);
      assert.equal((await q.getJobs()).length, 4);

      assert.equal(await q.promote(jobs[1].id), true);
      assert.equal(await q.promote(jobs[1].id), false);
      assert.equal((await q.counts()).delayed, 0);
      assert.equal(await q.remove(jobs[0].id), true);
      assert.equal(await q.remove(jobs[0].id), false);
      assert.equal((await q.counts()).waiting, 3);
      await q.drain();
      assert.equal((await q.counts()).waiting, 0);
    });

    test('pause and resume: adds still succeed, counts report paused', async () => {
      const { client: c } = client('pause');
      const q = c.queue('p');
      assert.equal(await q.isPaused(), false);
      await q.pause();
      assert.equal(await q.isPaused(), true);
      await q.add('x', { i: 1 });
      const counts = await q.counts();
      assert.equal(counts.waiting, 1);
      assert.equal(counts.paused, 1);
      await q.resume();
      assert.equal(await q.isPaused(), false);
      assert.equal((await q.counts()).paused, undefined);
    });

    test('cancel fails a waiting job; retryJobs and retryJob bring failed jobs back', async () => {
      const { client: c } = client('cancel');
      const q = c.queue('c');
      const [a, b] = await q.addBulk([{ name: 'a', data: 1 }, { name: 'b', data: 2 }]);
      assert.equal(await q.cancel(a.id), true);
      assert.equal(await q.cancel(b.id), true);
      assert.equal(await q.cancel('missing'), false);
      const failed = await q.getJob(a.id);
      assert.equal(await failed.state(), 'failed');
      assert.match(failed.failedReason, /cancel/);
      assert.equal((await q.counts()).failed, 2);
      assert.equal(await failed.retry(), true);
      assert.equal(await q.getJobState(a.id), 'waiting');
      assert.equal(await q.retryJobs(), 1);
      assert.deepEqual(
        [(await q.counts()).waiting, (await q.counts()).failed],
        [2, 0],
      );
      assert.deepEqual((await q.clean(0, 100, 'waiting')).sort(), [a.id, b.id].sort());
      assert.equal((await q.counts()).waiting, 0);
    });

    test('bad input is a typed error, and the queue is unharmed', async () => {
      const { client: c } = client('bad');
      const bad = [
        [() => c.queue('q', 5), /defaultJobOptions must be an object/],
        [() => c.queue('q', { attempts: -1 }), /attempts/],
        [() => c.queue('q', { tll: 5 }), /unknown option "tll"/],
        [() => c.queue('q', { jobId: 'x' }), /job_id cannot be a queue default/],
        [() => c.queue('', {}), /./],
      ];
      for (const [make, msg] of bad) assert.throws(make, (e) => e instanceof InvalidArgument && msg.test(e.message));
      const q = c.queue('q');
      const rejects = [
        [async () => q.add('j', 1, 'fast'), /job options must be an object/],
        [async () => q.add('j', 1, [1]), /job options must be an object/],
        [async () => q.add('j', 1, { attempts: -1 }), /attempts/],
        [async () => q.add('j', 1, { attempts: 1.5 }), /attempts/],
        [async () => q.add('j', 1, { delay: NaN }), /delay must be a finite number/],
        [async () => q.add('j', 1, { delay: Infinity }), /delay must be a finite number/],
        [async () => q.add('j', 1, { removeOnComplete: { age: -1 } }), /removeOnComplete/],
        [async () => q.add('j', 1, { job_id: 'x' }), /unknown option "job_id".*jobId/],
        [async () => q.add('j', 1, { maxAttempts: 3 }), /unknown option "maxAttempts"/],
        [async () => q.add('j', 1, { backoff: { type: 'linear', delay: 5 } }), /backoff/],
        [async () => q.add('j', 1, { jobId: '42' }), /job_id/],
        [async () => q.add('j', () => 1), /job data cannot be encoded/],
        [async () => q.add('j', { big: 1n }), /job data cannot be encoded/],
        [async () => q.add(7, 1), /name must be a string/],
        [async () => q.add('bad\ud800', 1), /name must not contain lone surrogates/],
        [async () => q.getJob('x\udc00'), /id must not contain lone surrogates/],
        [async () => q.addBulk([{ name: '\ud800' }]), /jobs\[0\]\.name must not contain lone surrogates/],
        [async () => q.addBulk('nope'), /addBulk takes an array/],
        [async () => q.addBulk([{ name: 'ok' }, { name: 'bad', opts: { priority: -2 } }]), /priority/],
        [async () => q.getJobs(['running']), /unknown job state "running"/],
        [async () => q.getJobs('waiting', -1), /start/],
        [async () => q.retryJobs({ state: 'waiting' }), /retry_jobs takes failed or completed/],
      ];
      // Made one at a time, so no rejection waits unhandled.
      for (const [call, msg] of rejects) {
        await assert.rejects(call, (e) => e instanceof InvalidArgument && msg.test(e.message));
      }
      // Nothing was added by the refused calls (a bad job in a bulk refuses the whole bulk).
      assert.equal((await q.counts()).waiting, 0);
      assert.equal((await q.add('j', 1)).data, 1);
    });
  });
}
