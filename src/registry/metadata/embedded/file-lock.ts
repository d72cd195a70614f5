import { open, readFile, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { GcLockedError } from "../../domain-errors.js";
import { type HeldLock, localLock } from "../metadata.js";

/**
 * A lock file holding its owner's pid, created exclusively. A lock whose owner is no longer
 * running (it crashed) is taken over. For processes on one host sharing a filesystem root.
 */
export async function acquireFileLock(path: string, wait: boolean): Promise<HeldLock> {
  for (let missing = 0; ; ) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return localLock(() => rm(path, { force: true }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT was seen once under load just as the previous holder removed the lock (cause not
      // found); it is retried a few times, since a root that is really missing stays missing.
      if (code === "ENOENT" && ++missing < 5) {
        await sleep(100);
        continue;
      }
      if (code !== "EEXIST") throw err;
    }
    const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(owner) || owner <= 0 || !isRunning(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (!wait) {
      throw new GcLockedError(`another garbage collection is running (pid ${owner}, lock file ${path})`);
    }
    await sleep(500);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
