import { setTimeout as sleep } from "node:timers/promises";
import { isAlive, processStart } from "../liveness.js";
import { ContainerConflictError } from "./errors.js";
import type { ContainerDb } from "./records.js";

const self = { pid: process.pid, start: processStart(process.pid) ?? 0 };

/** This process's identity as a lock holder: its pid and start time. */
export function lockOwner(): { pid: number; start: number } {
  return self;
}

/**
 * Runs fn holding the container's operation lock (a column of its record, taken in an IMMEDIATE
 * transaction): two berth processes never start, stop or remove one container at once. A lock
 * whose holder died is taken over. Waits up to `waitMs` for a live holder.
 */
export async function withContainerLock<T>(
  db: ContainerDb,
  id: string,
  fn: () => Promise<T>,
  waitMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  let delay = 5;
  while (!db.tryLock(id, self.pid, self.start, isAlive)) {
    if (Date.now() > deadline)
      throw new ContainerConflictError(`container ${id.slice(0, 12)} is busy with another operation`);
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    db.unlock(id, self.pid);
  }
}
