// Forcing garbage collection from a test: FinalizationRegistry callbacks run only after a
// collection, and then asynchronously.
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
/** V8's gc(), exposed for this process. */
export const gc = runInNewContext("gc") as () => void;

/** Collects until `done()` holds (finalizers run asynchronously after a collection). */
export async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    gc();
    await sleep(5);
    if (done()) return true;
  }
  return false;
}
