// The setup every example test shares: redkit-gateway in front of a real redis-server (the
// wasm suite's harness), the env an edge runtime hands the function, and requests built
// as a runtime builds them.

import { after, before } from 'node:test';
import { TOKEN, startServers } from '../../wasm/tests/harness.mjs';

/**
 * Start the servers before this file's tests and stop them after; returns `{ servers, env }`,
 * filled in once `before` has run.
 */
export function useServers() {
  const state = { servers: null, env: null };
  before(async () => {
    state.servers = await startServers();
    state.env = { UPSTASH_REDIS_REST_URL: state.servers.url, UPSTASH_REDIS_REST_TOKEN: TOKEN };
  });
  after(async () => {
    await state.servers?.stop();
  });
  return state;
}

/** `call(method, path, body)`: `app.fetch` with a real Request (JSON `body`) and `state.env`. */
export function caller(app, state) {
  return (method, path, body) =>
    app.fetch(
      new Request(`https://edge.example${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      }),
      state.env,
    );
}
