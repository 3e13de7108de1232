// The job queue of both JS packages, one suite: produce and inspect over every transport
// of the backend (Node: a real redis-server and the embedded engine; edge: REST through
// redkit-gateway and the ioredis adapter). Jobs are read back through the package and,
// where there is a server, straight from the job hash the core wrote (docs/WIRE.md,
// section Queue), so what a Rust, Python or Node worker reads is checked too.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { allTransports, api, prefix, useBackend } from './harness.mjs';

const { Closed, EncodeError, InvalidArgument, Job, JobFailed, NotFound, Queue, TimeoutError } = api;
const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'];
const FIELDS = [
  'id', 'name', 'data', 'opts', 'attemptsMade', 'progress', 'returnValue', 'failedReason',
  'timestamp', 'processedOn', 'finishedOn', 'stacktrace', 'stalledCount',
];

const backend = useBackend();

/** The transports' names, known before `before` runs (describe blocks are made at once). */

for (const transport of allTransports) {
  describe(`queue over ${transport}`, () => {
    const clients = [];
    /** A client with a fresh prefix, closed after the transport's tests. */
    async function open(name) {
      const p = prefix(name);
      const client = await backend().transports[transport].make(p);
      clients.push(client);
      return { p, client, command: backend().transports[transport].command };
    }
    after(async () => {
      for (const c of clients) await c.close();
    });

    test('add gives a Job with BullMQ-shaped fields and options; the hash holds them', async () => {
      const { p, client, command } = await open('add');
      const q = client.queue('emails', { attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
      assert.ok(q instanceof Queue);
      assert.equal(q.name, 'emails');
      const started = Date.now();
      const data = { to: 'ünï@example.com', n: 2 ** 40, big: 2 ** 53 - 1, f: 1.5, nested: { a: [1, '', null] } };
      const job = await q.add('welcome', data, { jobId: 'w-1', removeOnComplete: { age: 86_400, count: 10 }, priority: 5 });
      assert.ok(job instanceof Job);
      assert.deepEqual(Object.keys(job).sort(), [...FIELDS].sort());
      assert.equal(job.id, 'w-1');
      assert.equal(job.name, 'welcome');
      assert.deepEqual(job.data, data);
      assert.equal(job.attemptsMade, 0);
      assert.equal(job.returnValue, null);
      assert.equal(job.failedReason, null);
      assert.equal(job.processedOn, null);
      assert.equal(job.stalledCount, 0);
      assert.equal(job.queue, q);
      assert.ok(Math.abs(job.timestamp - started) < 5000, `${job.timestamp} vs ${started}`);
      // The queue's defaults under the add's own, camelCase, in BullMQ's units.
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
      assert.equal(await q.getJobState('nope'), null);

      if (command !== null) {
        // The hash as every runtime's worker reads it: same payload, options in the core's names.
        const flat = await command('HGETALL', `${p}:{queue:emails}:j:w-1`);
        const hash = Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : [])));
        assert.deepEqual(JSON.parse(hash.data), data);
        assert.equal(hash.name, 'welcome');
        assert.equal(JSON.parse(hash.opts).attempts, 3);
        assert.equal(JSON.parse(hash.opts).remove_on_complete.age, 86_400);
      }

      // The same jobId again is the same job, not a second one.
      const again = await q.add('welcome', { other: true }, { jobId: 'w-1' });
      assert.deepEqual(again.data, data);
      assert.equal((await q.counts()).waiting, 1);
    });

    test('addBulk adds atomically in order, in one script; getJobs and counts see them', async () => {
      const { client, command } = await open('bulk');
      const q = client.queue('bulk');
      const jobs = await q.addBulk([
        { name: 'a', data: 1 },
        { name: 'b', data: 'two', opts: { delay: 60_000 } },
        { name: 'c', data: null, opts: { priority: 1 } },
        { name: 'd', data: [] },
      ]);
      assert.deepEqual(jobs.map((j) => j.name), ['a', 'b', 'c', 'd']);
      assert.deepEqual(jobs.map((j) => j.data), [1, 'two', null, []]);
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

      const many = Array.from({ length: 1000 }, (_, i) => ({ name: 'n', data: { i }, opts: i === 0 ? { jobId: 'first' } : undefined }));
      const scripts = async () => {
        const info = await command('INFO', 'commandstats');
        let n = 0;
        for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1]);
        return n;
      };
      const n0 = command === null ? 0 : await scripts();
      const added = await q.addBulk(many);
      if (command !== null) assert.equal((await scripts()) - n0, 1, 'one script for 1,000 jobs');
      assert.equal(added.length, 1000);
      assert.equal(added[0].id, 'first');
      assert.deepEqual(added[999].data, { i: 999 });
      assert.equal((await q.counts()).waiting, 1000);
      // One bad job refuses the whole batch: nothing added.
      await assert.rejects(q.addBulk([{ name: 'ok', data: 1 }, { name: 'bad', data: 2, opts: { attempts: -1 } }]), InvalidArgument);
      assert.equal((await q.counts()).waiting, 1000);
    });

    test('pause and resume: adds still succeed, counts report paused', async () => {
      const { client } = await open('pause');
      const q = client.queue('p');
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

    test('cancel fails a waiting job; retryJobs and retryJob bring failed jobs back; drain, clean, obliterate', async () => {
      const { p, client, command } = await open('cancel');
      const q = client.queue('c');
      const [a, b] = await q.addBulk([{ name: 'a', data: 1 }, { name: 'b', data: 2 }]);
      assert.equal(await q.cancel(a.id), true);
      assert.equal(await q.cancel(b.id), true);
      assert.equal(await q.cancel('missing'), false);
      const failed = await q.getJob(a.id);
      assert.equal(await failed.state(), 'failed');
      assert.match(failed.failedReason, /cancel/);
      assert.notEqual(failed.finishedOn, null);
      assert.equal((await q.counts()).failed, 2);
      assert.equal(await failed.retry(), true);
      assert.equal(await failed.retry(), false);
      assert.equal(await q.getJobState(a.id), 'waiting');
      assert.equal(await q.retryJobs(), 1);
      assert.deepEqual([(await q.counts()).waiting, (await q.counts()).failed], [2, 0]);
      // The edge package's first form of the state.
      assert.equal(await q.retryJobs({ state: 'completed' }), 0);
      assert.deepEqual((await q.clean(0, 100, 'waiting')).sort(), [a.id, b.id].sort());
      assert.equal((await q.counts()).waiting, 0);

      const later = await q.add('later', 1, { delay: 60_000 });
      await q.add('now', 1);
      await q.drain();
      assert.deepEqual([(await q.counts()).waiting, (await q.counts()).delayed], [0, 1]);
      await q.drain(true);
      assert.equal((await q.counts()).delayed, 0);
      assert.equal(await q.getJob(later.id), null);
      const f = await q.add('f', 1);
      await q.cancel(f.id);
      assert.deepEqual(await q.clean(0, 10, 'failed'), [f.id]);
      const gone = await q.add('y', 1);
      assert.equal(await gone.remove(), true);
      await q.add('z', 1);
      await q.obliterate();
      assert.deepEqual(await q.counts(), { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0, prioritized: 0 });
      if (command !== null) assert.deepEqual(await command('KEYS', `${p}:{queue:c}*`), []);
    });

    test('bad input is a typed error, and the queue is unharmed', async () => {
      const { client } = await open('bad');
      const throwsAtOnce = [
        [() => client.queue('q', 5), /defaultJobOptions must be an object/],
        [() => client.queue('q', 'attempts'), /defaultJobOptions must be an object/],
        [() => client.queue('q', { attempts: -1 }), /attempts/],
        [() => client.queue('q', { attempts: 'three' }), /attempts/],
        [() => client.queue('q', { tll: 5 }), /unknown option "tll"/],
        [() => client.queue('q', { remove_on_complete: true }), /unknown option "remove_on_complete"/],
        [() => client.queue('q', { jobId: 'x' }), /a job id cannot be a queue's default job option/],
        [() => client.queue('q', { delay: NaN }), /delay/],
        [() => client.queue('', {}), /./],
        [() => client.queue(42), /queue name must be a string/],
      ];
      for (const [make, msg] of throwsAtOnce) {
        assert.throws(make, (e) => e instanceof InvalidArgument && msg.test(e.message), String(make));
      }
      const q = client.queue('q');
      const invalid = [
        [() => q.add('j', 1, 'fast'), /job options must be an object/],
        [() => q.add('j', 1, [1]), /job options must be an object/],
        [() => q.add('j', 1, { attempts: -1 }), /attempts/],
        [() => q.add('j', 1, { attempts: 1.5 }), /attempts/],
        [() => q.add('j', 1, { attempts: Infinity }), /attempts/],
        [() => q.add('j', 1, { priority: -2 }), /priority/],
        [() => q.add('j', 1, { delay: -5 }), /delay/],
        [() => q.add('j', 1, { delay: 'soon' }), /delay/],
        [() => q.add('j', 1, { delay: NaN }), /delay must be a finite number/],
        [() => q.add('j', 1, { delay: Infinity }), /delay must be a finite number/],
        [() => q.add('j', 1, { backoff: { type: 'fixed', delay: -Infinity } }), /delay/],
        [() => q.add('j', 1, { removeOnComplete: { age: -1 } }), /removeOnComplete/],
        [() => q.add('j', 1, { job_id: 'x' }), /unknown option "job_id".*jobId/],
        [() => q.add('j', 1, { maxAttempts: 3 }), /unknown option "maxAttempts"/],
        [() => q.add('j', 1, { backoff: { type: 'linear', delay: 5 } }), /backoff/],
        [() => q.add('j', 1, { jobId: '42' }), /jobId/],
        [() => q.add('j', 1, { jobId: '' }), /jobId/],
        [() => q.add(7, 1), /name must be a string/],
        [() => q.addBulk('nope'), /addBulk takes an array/],
        [() => q.addBulk([null]), /jobs\[0\] must be an object/],
        [() => q.addBulk([{ name: 'ok', data: 1 }, { name: 'bad', data: 1, opts: { priority: -2 } }]), /priority/],
        [() => q.getJobs(['running']), /unknown job state "running"/],
        [() => q.getJobs(42), /states must be a state name/],
        [() => q.getJobs('waiting', -1), /start/],
        [() => q.getJobs('waiting', '0'), /start must be a number/],
        [() => q.getJob(5), /job id must be a string/],
        [() => q.retryJobs('sleeping'), /sleeping/],
        [() => q.retryJobs({ state: 'waiting' }), /only failed or completed jobs can be retried, not waiting ones/],
        [() => q.clean(-1, 10, 'completed'), /grace/],
        [() => q.clean(0, 1.5, 'completed'), /limit/],
        [() => q.clean(0), /limit must be a number/],
        [() => q.drain('yes'), /drain\(delayed\) takes a boolean/],
        [() => q.obliterate({ force: 1 }), /force must be a boolean/],
      ];
      // What JSON cannot hold is an EncodeError, as a cache value: use null for no data.
      const unencodable = [
        [() => q.add('j', undefined), /job data cannot be encoded/],
        [() => q.add('j', () => 1), /job data cannot be encoded/],
        [() => q.add('j', { big: 1n }), /job data cannot be encoded/],
        [() => q.addBulk([{ name: 'n' }]), /jobs\[0\]\.data cannot be encoded/],
      ];
      // Made one at a time, so no rejection waits unhandled.
      for (const [call, msg] of invalid) {
        await assert.rejects(call, (e) => e instanceof InvalidArgument && msg.test(e.message), String(call));
      }
      for (const [call, msg] of unencodable) {
        await assert.rejects(call, (e) => e instanceof EncodeError && msg.test(e.message), String(call));
      }
      // Nothing was added by the refused calls (a bad job in a bulk refuses the whole bulk).
      assert.deepEqual(await q.counts(), { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0, prioritized: 0 });
      assert.equal((await q.add('j', 1)).data, 1);
    });

    test('a job outside a worker: progress, log lines, waitUntilFinished; workers and late results', async () => {
      const { client } = await open('jobcalls');
      const q = client.queue('q');
      const job = await q.add('j', { n: 1 });
      await job.updateProgress({ step: 2 });
      assert.deepEqual(job.progress, { step: 2 });
      assert.deepEqual((await q.getJob(job.id)).progress, { step: 2 });
      assert.equal(await job.log('first'), 1);
      assert.equal(await job.log('second'), 2);
      assert.deepEqual(await job.logs(), ['first', 'second']);
      assert.deepEqual(await job.logs(1, 1), ['second']);
      await assert.rejects(job.updateProgress(() => 1), EncodeError);
      await assert.rejects(job.log(5), InvalidArgument);

      // Not finished: the wait ends with a TimeoutError at its deadline.
      const started = Date.now();
      await assert.rejects(job.waitUntilFinished('300ms'), TimeoutError);
      assert.ok(Date.now() - started < 3000);
      // A cancelled waiting job fails at once: the wait (already blocked, or not yet) says why.
      // The handler is attached before the cancel: the wait may reject while the cancel is still
      // in flight, and a rejection with no handler by then fails the whole run.
      const waiting = assert.rejects(job.waitUntilFinished(5000), (e) => e instanceof JobFailed && /cancelled/.test(e.message));
      await q.cancel(job.id);
      await waiting;
      await assert.rejects(job.waitUntilFinished(1000), JobFailed);
      // A job that never was.
      const ghost = (await q.add('g', 1));
      await q.remove(ghost.id);
      await assert.rejects(ghost.waitUntilFinished(1000), NotFound);
      await assert.rejects(job.waitUntilFinished(-1), InvalidArgument);

      // No worker ever beat for this queue, and nothing was refused.
      assert.deepEqual(await q.workers(), []);
      assert.deepEqual(await q.workers(60_000), []);
      assert.deepEqual(await q.workers('1m'), []);
      await assert.rejects(q.workers('soon'), InvalidArgument);
      await assert.rejects(q.workers(-5), InvalidArgument);
      assert.equal(await q.lateResults(), 0);
    });

    test('a closed client: every queue call rejects with Closed', async () => {
      const { client } = await open('closed');
      const q = client.queue('x');
      await client.close();
      await assert.rejects(q.add('n', 1), Closed);
      await assert.rejects(q.counts(), Closed);
      await assert.rejects(q.getJob('1'), Closed);
    });
  });
}
