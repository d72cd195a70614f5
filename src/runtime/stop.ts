import { watch } from "node:fs";
import { isAlive } from "../liveness.js";
import { cleanupContainer } from "./cleanup.js";
import type { Containers } from "./containers.js";
import { ContainerConflictError, RuntimeError } from "./errors.js";
import { withContainerLock } from "./lock.js";
import { type Observed, observe } from "./observe.js";
import type { ContainerRecord } from "./records.js";
import { parseSignal } from "./signals.js";
import { settle } from "./start.js";

/** Waits until the container is no longer running; resolves to its observed state. */
export async function waitExit(
  c: Containers,
  id: string,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<Observed | undefined> {
  const paths = c.paths(id);
  const deadline = Date.now() + timeoutMs;
  let watcher: ReturnType<typeof watch> | undefined;
  let wake: (() => void) | undefined;
  try {
    watcher = watch(paths.exitDir, () => wake?.());
  } catch {}
  try {
    for (;;) {
      const rec = c.db.get(id);
      if (!rec) return undefined;
      const seen = observe(rec, paths);
      if (seen.state !== "running" && seen.state !== "restarting") return seen;
      const left = deadline - Date.now();
      if (left <= 0) return seen;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 100)).unref?.();
      });
    }
  } finally {
    watcher?.close();
  }
}

/** `stop`: the stop signal, then KILL after `timeout` seconds; the restart policy leaves it stopped. */
export async function stopContainer(
  c: Containers,
  input: string,
  timeoutSeconds?: number,
  signal?: string,
): Promise<void> {
  const rec = c.find(input);
  await withContainerLock(c.db, rec.id, async () => {
    const current = c.db.get(rec.id)!;
    c.db.write(() => c.db.update(rec.id, { stoppedByUser: true }));
    const seen = observe(current, c.paths(rec.id));
    if (seen.state === "running") {
      const sig = parseSignal(signal ?? current.settings.stopSignal);
      const timeout = (timeoutSeconds ?? current.settings.stopTimeout) * 1000;
      let last = sig;
      await signalContainer(c, current, sig, false).catch(() => {});
      let after = timeout > 0 ? await waitExit(c, rec.id, timeout) : seen;
      if (!after || after.state === "running") {
        last = 9;
        await signalContainer(c, current, 9, true).catch(() => {});
        after = await waitExit(c, rec.id, 10_000);
      }
      if (after?.state === "running") throw new RuntimeError(`container ${rec.id.slice(0, 12)} did not stop`);
      await settle(c, current, unsupervisedExit(after!, last));
    } else if (seen.stale) await settle(c, current, seen);
  });
}

/** Sends a signal through the runtime, or straight to the process when the runtime lost track of it. */
export async function signalContainer(
  c: Containers,
  rec: ContainerRecord,
  sig: number,
  all: boolean,
): Promise<void> {
  try {
    await c.runtime.kill(rec.id, sig, all);
  } catch (err) {
    if (!isAlive(rec.pid, rec.pidStart)) throw err;
    process.kill(rec.pid!, sig);
  }
}

export async function killContainer(c: Containers, input: string, signal = "KILL"): Promise<void> {
  const rec = c.find(input);
  const sig = parseSignal(signal);
  const seen = observe(rec, c.paths(rec.id));
  if (seen.state !== "running")
    throw new ContainerConflictError(`Cannot kill container: ${input}: Container ${rec.id} is not running`);
  if (sig === 9 || sig === 15 || sig === parseSignal(rec.settings.stopSignal))
    c.db.write(() => c.db.update(rec.id, { stoppedByUser: true }));
  await signalContainer(c, rec, sig, false);
}

/** `wait`: blocks until the container stops, then settles its record; resolves to its exit status. */
export async function waitContainer(c: Containers, input: string): Promise<number> {
  const rec = c.find(input);
  const seen = await waitExit(c, rec.id);
  if (!seen) return rec.exitCode;
  if (seen.stale) await cleanupContainer(c, rec.id, { restart: false, autoRemove: false }).catch(() => {});
  return seen.exitCode;
}

/** Without conmon's exit file, a container we killed ends with the signal's status. */
function unsupervisedExit(seen: Observed, lastSignal: number): Observed {
  if (seen.exitCode !== 255 || !seen.error) return seen;
  return { ...seen, exitCode: 128 + lastSignal, error: "" };
}
