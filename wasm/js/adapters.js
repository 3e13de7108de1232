// Client.adapter(jsClient): everything the adapter transport needs from a JS Redis client is
// ONE function,
//
//   sendCommand(args: (string | Uint8Array)[]): Promise<reply>
//
// where args[0] is the command name, and reply is what Redis answered: null, a number, a
// string or Uint8Array/Buffer (bulk and status replies), an array of replies, or a
// rejection with the server's error text ("NOSCRIPT ...", "WRONGTYPE ...") for error
// replies. Pass that function itself, or a client this file recognizes:
//   - ioredis: `callBuffer` (binary-safe: bulk strings come back as Buffers)
//   - node-redis v4/v5: `sendCommand(args)` (strings: binary values must be UTF-8)
//   - anything with a `sendCommand(args)` method of the shape above.

import { InvalidArgument } from './errors.js';

const toBuffer = (a) =>
  a instanceof Uint8Array && globalThis.Buffer && !globalThis.Buffer.isBuffer(a)
    ? globalThis.Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    : a;

/** Reduce a client (or a function) to `sendCommand(args) => Promise<reply>`. */
export function toSendCommand(client) {
  if (typeof client === 'function') return (args) => client(args);
  if (client && typeof client.callBuffer === 'function') {
    // ioredis
    return (args) => client.callBuffer(String(args[0]), ...args.slice(1).map(toBuffer));
  }
  if (client && typeof client.sendCommand === 'function') {
    // node-redis, or any object with the one method
    return (args) => client.sendCommand(args.map(toBuffer));
  }
  throw new InvalidArgument(
    'Client.adapter needs a function sendCommand(args) => Promise<reply>, an ioredis client ' +
      '(callBuffer) or a node-redis client (sendCommand)',
  );
}
