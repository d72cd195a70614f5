import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "../liveness.js";
import { shouldRestart } from "./cleanup.js";
import type { Containers } from "./containers.js";
import { ContainerConflictError, RuntimeError } from "./errors.js";
import { withContainerLock } from "./lock.js";
import { observe } from "./observe.js";
import { isMounted } from "./overlay.js";
import { volumesDir } from "./paths.js";
import { signalContainer, waitExit } from "./stop.js";

/** `rm`: a stopped container (`force`: killed first) and everything it held; `volumes`: its anonymous volumes too. */
export async function removeContainer(
  c: Containers,
  input: string,
  opts: { force?: boolean; volumes?: boolean } = {},
): Promise<void> {
  const rec = c.find(input);
  const conmon = await withContainerLock(c.db, rec.id, async () => {
    const current = c.db.get(rec.id);
    if (!current) return;
    const seen = observe(current, c.paths(rec.id));
    if ((seen.state === "running" || seen.state === "restarting") && !opts.force)
      throw new ContainerConflictError(
        `cannot remove container "/${current.name}": container is running: stop the container before removing or force remove`,
      );
    if (seen.state === "running") {
      c.db.write(() => c.db.update(rec.id, { stoppedByUser: true }));
      await signalContainer(c, current, 9, true).catch(() => {});
      const after = await waitExit(c, rec.id, 10_000);
      if (after?.state === "running")
        throw new RuntimeError(`container ${rec.id.slice(0, 12)} could not be killed`);
    }
    await c.releaseResources(current);
    const paths = c.paths(rec.id);
    if (isMounted(paths.merged))
      throw new RuntimeError(
        `cannot remove container ${rec.id.slice(0, 12)}: its filesystem is still mounted`,
      );
    // Synchronously: for a tree this small, about half the time of fs.promises.rm's round trips.
    rmSync(paths.dir, { recursive: true, force: true });
    c.db.write(() => c.db.delete(rec.id));
    if (opts.volumes) {
      for (const m of current.settings.mounts) {
        if (m.type === "volume" && m.name && /^[0-9a-f]{64}$/.test(m.name)) {
          await rm(join(volumesDir(c.store.root), m.name), { recursive: true, force: true });
          c.db.write(() => c.db.deleteVolume(m.name!));
        }
      }
    }
    return current.conmonPid ? { pid: current.conmonPid, start: current.conmonStart } : undefined;
  });
  await endAttachment(c, rec.id);
  // conmon lives until its exit command (our cleanup, which waited for the lock) is done: moments.
  await waitGone(conmon);
}

/**
 * The attached caller is done with the container (it followed it to its exit, then cleaned
 * up or removed it): conmon's exit command is told it has nothing left to do — unless a
 * restart policy or --rm still applies, or the record still says running — and conmon is
 * waited for, so that no process of the container outlives the caller.
 */
export async function endAttachment(c: Containers, id: string): Promise<void> {
  const handoff = c.handoffs.get(id);
  if (!handoff) return;
  c.handoffs.delete(id);
  const rec = c.db.get(id);
  const settled =
    !rec ||
    (rec.state !== "running" &&
      rec.state !== "restarting" &&
      !rec.settings.autoRemove &&
      !shouldRestart(rec));
  if (settled) {
    handoff.done();
    await waitGone(handoff.monitor);
  }
  handoff.close();
}

/**
 * Waits (up to 5 s) for a process that is not our child to exit: polled, first every
 * millisecond (conmon usually exits a few ms after its exit command), then less often.
 */
async function waitGone(p: { pid: number | null; start: number | null } | undefined): Promise<void> {
  const deadline = Date.now() + 5000;
  for (let delay = 1; p && isAlive(p.pid, p.start) && Date.now() < deadline; delay = Math.min(delay * 2, 20))
    await sleep(delay);
}
