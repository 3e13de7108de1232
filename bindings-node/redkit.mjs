// ES module entry: the same objects as the CommonJS entry (one copy of the classes, so
// `instanceof` agrees whichever way the package was loaded).
import redkit from './redkit.js'

export const {
  Client,
  Cache,
  RateLimiter,
  Queue,
  Job,
  QueueEvents,
  Worker,
  UnrecoverableError,
  JobFailed,
  RedkitError,
  ConnectionError,
  TimeoutError,
  InvalidArgument,
  DecodeError,
  EncodeError,
  ScriptError,
  ServerError,
  NotFound,
  Closed,
  LockNotAcquired,
  LoaderError,
} = redkit

export default redkit
