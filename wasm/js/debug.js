// A deliberate panic, so tests (and the curious) can see that a panic is an error and the
// module keeps working afterwards. `inTask`: panic inside an async operation rather than
// in a synchronous call.
import { glue, guard, run } from './runtime.js';

export function debugPanic(inTask = false) {
  return inTask ? run(() => glue.debug_panic(true)) : Promise.resolve().then(() => guard(() => glue.debug_panic(false)));
}
