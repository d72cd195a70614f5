import { closeSync, constants, lstatSync, openSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { RuntimeError } from "./errors.js";
import { isAlive } from "./liveness.js";

/**
 * runc's `start` of a created container, done here instead of by a second runc process (about
 * 10 ms of every `run`): runc's init, before it executes the container's process, opens the
 * container's exec FIFO (STATE/ID/exec.fifo) for writing and writes one byte; `runc start`
 * opens it for reading, reads that byte and removes the FIFO — which is also how runc then
 * tells a started container from a created one (runc 1.1, libcontainer's exec() and
 * handleFifoResult()). As runc does, a reader that waits while init is gone gives up.
 *
 * Resolves to false when the container has no such FIFO (not runc's layout): the caller runs
 * the runtime's own `start` then.
 */
export async function startThroughExecFifo(
  stateRoot: string,
  id: string,
  init: { pid: number; start: number | null },
): Promise<boolean> {
  const fifo = join(stateRoot, id, "exec.fifo");
  try {
    if (!lstatSync(fifo).isFIFO()) return false;
  } catch {
    return false;
  }
  // The open blocks (on a threadpool thread) until init opens its end; were init gone, a
  // writer of our own releases it, and the read finds nothing.
  const reading = readFile(fifo);
  const watchdog = setInterval(() => {
    if (isAlive(init.pid, init.start)) return;
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {}
  }, 50);
  let data: Buffer;
  try {
    data = await reading;
  } finally {
    clearInterval(watchdog);
  }
  if (data.length === 0) throw new RuntimeError("container process is already dead");
  rmSync(fifo, { force: true });
  return true;
}
