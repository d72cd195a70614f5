import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ImageDb } from "./db.js";

/**
 * The start time of a process as /proc/PID/stat gives it (clock ticks since boot), or null when
 * it cannot be read. With the pid it names one process for good: a pid reused by another
 * process after a crash has another start time.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the command name (field 2) is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(pid: number, started: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return started === null || processStartTime(pid) === started;
}

/**
 * What this process is about to use, in containerd's sense of a lease: every layer and blob a
 * pull or load checks or writes is held here before it is looked at, and the hold is dropped
 * in the transaction that records the image using them. Garbage collection takes nothing held.
 * A lease of a process that died (a killed pull) expires at the next collection.
 */
export class Lease {
  private released = false;

  private constructor(
    private readonly db: ImageDb,
    readonly id: string,
  ) {}

  /** A lease of this process; `lasting` makes one that outlives it, until released (a build cache). */
  static open(db: ImageDb, lasting = false): Lease {
    const id = randomUUID();
    db.write(() =>
      db.addLease(id, lasting ? null : process.pid, lasting ? null : processStartTime(process.pid)),
    );
    return new Lease(db, id);
  }

  /** Holds a layer (chain id) or blob (digest). Call it before checking whether the thing exists. */
  hold(kind: "layer" | "blob", key: string): void {
    this.db.write(() => this.db.addLeaseRef(this.id, kind, key));
  }

  /** Drops the lease; inside the caller's transaction when it is in one. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.db.write(() => this.db.deleteLease(this.id));
  }
}

/** Deletes the leases of processes that are gone. Call inside a write transaction. */
export function expireDeadLeases(db: ImageDb): void {
  for (const lease of db.leases()) {
    if (lease.pid !== null && !isAlive(lease.pid, lease.pidStarted)) db.deleteLease(lease.id);
  }
}
