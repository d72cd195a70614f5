import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "../liveness.js";
import type { Containers } from "./containers.js";
import { withContainerLock } from "./lock.js";
import { observe } from "./observe.js";
import type { ContainerRecord } from "./records.js";
import { removeContainer } from "./remove.js";
import { settle, startLocked } from "./start.js";

/**
 * Runs when a container exited (conmon's exit command, `berth container cleanup ID`): records its
 * status, frees its mount and network, then applies its restart policy (Docker's: on-failure[:N]
 * and always/unless-stopped unless stopped by the user; 100 ms doubling backoff) or removes it (--rm).
 */
export async function cleanupContainer(
  c: Containers,
  id: string,
  opts: { restart?: boolean; autoRemove?: boolean } = {},
): Promise<void> {
  const rec = c.db.get(id);
  if (!rec) return;
  const restart = await withContainerLock(c.db, id, async () => {
    const current = c.db.get(id);
    if (!current) return false;
    const seen = observe(current, c.paths(id));
    if (seen.state === "running") return false;
    if (seen.stale) await settle(c, current, seen);
    const done = c.db.get(id)!;
    if (opts.restart !== false && shouldRestart(done)) {
      c.db.write(() => c.db.update(id, { state: "restarting" }));
      return true;
    }
    return false;
  });
  const after = c.db.get(id);
  if (!after) return;
  if (restart) {
    const delay = Math.min(100 * 2 ** after.restartCount, 60_000);
    await sleep(delay);
    await withContainerLock(c.db, id, async () => {
      const current = c.db.get(id);
      if (current?.state !== "restarting" || current.stoppedByUser) {
        if (current?.state === "restarting") c.db.write(() => c.db.update(id, { state: "exited" }));
        return;
      }
      c.db.write(() => c.db.update(id, { restartCount: current.restartCount + 1 }));
      await startLocked(c, { ...current, restartCount: current.restartCount + 1 }, {}).catch(() => {});
    });
    return;
  }
  if (opts.autoRemove !== false && after.settings.autoRemove && after.state !== "running")
    await removeContainer(c, id, { force: true, volumes: true });
}

/** Unmounts and frees what containers left behind when the machine restarted or a berth process died. */
export async function sweepContainers(c: Containers): Promise<void> {
  for (const rec of c.db.all()) {
    if (isAlive(rec.lockPid, rec.lockStart)) continue;
    const seen = observe(rec, c.paths(rec.id));
    if (seen.stale) await cleanupContainer(c, rec.id).catch(() => {});
  }
}

export function shouldRestart(rec: ContainerRecord): boolean {
  const p = rec.settings.restartPolicy;
  if (rec.stoppedByUser || p.name === "no") return false;
  if (p.name === "on-failure")
    return rec.exitCode !== 0 && (p.maximumRetryCount === 0 || rec.restartCount < p.maximumRetryCount);
  return true;
}
