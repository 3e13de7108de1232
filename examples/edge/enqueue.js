// The seed's email queue, producer side, as an edge function (Cloudflare Workers / Hono
// style): a signup handler enqueues the welcome email over the Upstash REST protocol and
// answers at once. The edge runs no worker: a Rust, Python or Node worker on the same Redis
// processes the job (client.worker('emails', ...) there).
//
//   POST /signup  {email}   enqueue the welcome email (once per address) -> 202 {jobId}
//   GET  /emails/stats      the queue's counts
//
// env: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN (any Upstash-compatible endpoint,
// e.g. redkit-gateway in front of your own Redis).

import { Hono } from 'hono';
import { Client } from 'redkit-wasm';

// One client and queue per isolate, shared by every request.
let emails;
function emailQueue(env) {
  if (!emails) {
    const client = Client.rest({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, timeout: 2_000 });
    // The seed's options: 3 attempts, exponential backoff from 1 s, completed jobs kept a
    // day, failed ones a week (ages in seconds, as BullMQ's).
    emails = client.queue('emails', {
      attempts: 3,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }
  return emails;
}

const app = new Hono();

app.post('/signup', async (c) => {
  const body = await c.req.json().catch(() => null);
  const email = body?.email;
  if (typeof email !== 'string' || !email.includes('@')) return c.json({ error: 'email required' }, 400);
  // The job id makes a retried request (or a double click) enqueue one email, not two.
  const job = await emailQueue(c.env).add('welcome', { to: email }, { jobId: `welcome:${email}` });
  return c.json({ jobId: job.id }, 202);
});

app.get('/emails/stats', async (c) => c.json(await emailQueue(c.env).counts()));

app.onError((err, c) => c.json({ error: err.message, code: err.code ?? 'ERR_INTERNAL' }, 500));

export default app;
