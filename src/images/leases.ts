import { randomUUID } from "node:crypto";
import { isAlive, processStart } from "../liveness.js";
import type { ImageDb } from "./db.js";

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
      db.addLease(id, lasting ? null : process.pid, lasting ? null : (processStart(process.pid) ?? null)),
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
