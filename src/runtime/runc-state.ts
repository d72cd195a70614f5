import { closeSync, constants, lstatSync, openSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isAlive } from "../liveness.js";
import { RuntimeError } from "./errors.js";

/*
 * Two runc commands whose whole work is on files of runc's state directory (STATE/ID), done
 * here instead of by a runc process (a Go program: about 10 ms and as much CPU each): the
 * start of a created container and the delete of a stopped one. Both follow runc 1.1's
 * libcontainer, and both step aside — the caller runs runc then — for anything but the
 * plain case they handle.
 */

/**
 * `runc start` of a created container: runc's init, before it executes the container's process, opens the
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

/**
 * `runc delete` of a stopped container: its cgroup directories (state.json's cgroup_paths)
 * and its state directory removed (libcontainer's destroy(); with its own pid namespace, no
 * process of the container outlives its init). Resolves to false, having changed nothing that
 * runc would not, when the state is not what this expects: no state, init still running, hooks
 * to run, or a cgroup directory that will not go (a process left, or child groups): runc
 * deletes it then.
 */
export function deleteStoppedState(stateRoot: string, id: string): boolean {
  const dir = join(stateRoot, id);
  let state: {
    init_process_pid?: unknown;
    init_process_start?: unknown;
    cgroup_paths?: unknown;
    config?: { Hooks?: Record<string, unknown[] | null>; namespaces?: { type?: string; path?: string }[] };
  };
  try {
    state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
  } catch {
    return false;
  }
  const pid = state.init_process_pid;
  const start = state.init_process_start;
  const cgroups = state.cgroup_paths;
  if (typeof pid !== "number" || typeof start !== "number" || !cgroups || typeof cgroups !== "object")
    return false;
  if (isAlive(pid, start)) return false;
  if (Object.values(state.config?.Hooks ?? {}).some((h) => Array.isArray(h) && h.length > 0)) return false;
  const ownPidNamespace = state.config?.namespaces?.some((n) => n.type === "NEWPID" && !n.path);
  if (!ownPidNamespace) return false;
  for (const path of Object.values(cgroups)) {
    if (typeof path !== "string" || !path.startsWith("/sys/fs/cgroup/")) return false;
    try {
      rmdirSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") return false;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return true;
}
