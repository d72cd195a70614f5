import type Database from "better-sqlite3";
import { ContainerConflictError } from "./errors.js";
import { applyRuntimeSchema } from "./schema.js";
import type { ContainerSettings } from "./settings.js";

export type ContainerState = "created" | "running" | "restarting" | "exited" | "dead";

export interface ContainerRecord {
  id: string;
  name: string;
  imageId: string;
  image: string;
  settings: ContainerSettings;
  state: ContainerState;
  pid: number | null;
  pidStart: number | null;
  conmonPid: number | null;
  conmonStart: number | null;
  slirpPid: number | null;
  slirpStart: number | null;
  exitCode: number;
  error: string;
  created: string;
  startedAt: string | null;
  finishedAt: string | null;
  restartCount: number;
  stoppedByUser: boolean;
  lockPid: number | null;
  lockStart: number | null;
}

interface Row {
  id: string;
  name: string;
  image_id: string;
  image: string;
  config: string;
  state: ContainerState;
  pid: number | null;
  pid_start: number | null;
  conmon_pid: number | null;
  conmon_start: number | null;
  slirp_pid: number | null;
  slirp_start: number | null;
  exit_code: number;
  error: string;
  created: string;
  started_at: string | null;
  finished_at: string | null;
  restart_count: number;
  stopped_by_user: number;
  lock_pid: number | null;
  lock_start: number | null;
}

function toRecord(r: Row): ContainerRecord {
  return {
    id: r.id,
    name: r.name,
    imageId: r.image_id,
    image: r.image,
    settings: JSON.parse(r.config) as ContainerSettings,
    state: r.state,
    pid: r.pid,
    pidStart: r.pid_start,
    conmonPid: r.conmon_pid,
    conmonStart: r.conmon_start,
    slirpPid: r.slirp_pid,
    slirpStart: r.slirp_start,
    exitCode: r.exit_code,
    error: r.error,
    created: r.created,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    restartCount: r.restart_count,
    stoppedByUser: r.stopped_by_user !== 0,
    lockPid: r.lock_pid,
    lockStart: r.lock_start,
  };
}

/** Fields a state change may set, by record name. */
export type RecordUpdate = Partial<
  Pick<
    ContainerRecord,
    | "state"
    | "pid"
    | "pidStart"
    | "conmonPid"
    | "conmonStart"
    | "slirpPid"
    | "slirpStart"
    | "exitCode"
    | "error"
    | "startedAt"
    | "finishedAt"
    | "restartCount"
    | "stoppedByUser"
    | "name"
    | "settings"
  >
>;

const COLUMNS: Record<keyof RecordUpdate, string> = {
  state: "state",
  pid: "pid",
  pidStart: "pid_start",
  conmonPid: "conmon_pid",
  conmonStart: "conmon_start",
  slirpPid: "slirp_pid",
  slirpStart: "slirp_start",
  exitCode: "exit_code",
  error: "error",
  startedAt: "started_at",
  finishedAt: "finished_at",
  restartCount: "restart_count",
  stoppedByUser: "stopped_by_user",
  name: "name",
  settings: "config",
};

/**
 * Images containers were created from. A read only: a store without the runtime's table (nothing
 * ever ran) has none, and the table is not created for the asking.
 */
export function imagesWithContainers(db: Database.Database): Set<string> {
  const have = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'containers'").get();
  if (!have) return new Set();
  const rows = db.prepare("SELECT DISTINCT image_id FROM containers").all() as { image_id: string }[];
  return new Set(rows.map((r) => r.image_id));
}

/** The containers table, on the store's connection. */
export class ContainerDb {
  constructor(private readonly db: Database.Database) {
    applyRuntimeSchema(db);
  }

  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  all(): ContainerRecord[] {
    return (this.db.prepare("SELECT * FROM containers ORDER BY created DESC, id").all() as Row[]).map(
      toRecord,
    );
  }

  get(id: string): ContainerRecord | undefined {
    const row = this.db.prepare("SELECT * FROM containers WHERE id = ?").get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  byName(name: string): ContainerRecord | undefined {
    const row = this.db.prepare("SELECT * FROM containers WHERE name = ?").get(name) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  idsByPrefix(prefix: string): string[] {
    return (
      this.db
        .prepare("SELECT id FROM containers WHERE id >= ? AND id < ?")
        .all(prefix, `${prefix}\uffff`) as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  /** Adds a record; a taken name is Docker's conflict, naming the container that has it. */
  insert(rec: ContainerRecord): void {
    this.write(() => {
      const holder = this.byName(rec.name);
      if (holder) throw nameInUse(rec.name, holder.id);
      this.db
        .prepare(
          `INSERT INTO containers (id, name, image_id, image, config, state, exit_code, error, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          rec.id,
          rec.name,
          rec.imageId,
          rec.image,
          JSON.stringify(rec.settings),
          rec.state,
          rec.exitCode,
          rec.error,
          rec.created,
        );
    });
  }

  update(id: string, changes: RecordUpdate): void {
    const keys = Object.keys(changes) as (keyof RecordUpdate)[];
    if (keys.length === 0) return;
    const values = keys.map((k) => {
      const v = changes[k];
      if (k === "settings") return JSON.stringify(v);
      if (typeof v === "boolean") return v ? 1 : 0;
      return v;
    });
    this.db
      .prepare(`UPDATE containers SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(", ")} WHERE id = ?`)
      .run(...values, id);
  }

  rename(id: string, name: string): void {
    this.write(() => {
      const holder = this.byName(name);
      if (holder && holder.id !== id) throw nameInUse(name, holder.id);
      this.update(id, { name });
    });
  }

  delete(id: string): void {
    this.db.prepare("DELETE FROM containers WHERE id = ?").run(id);
  }

  /** Containers made from an image (for rmi and image prune). */
  usingImage(imageId: string): ContainerRecord[] {
    return (this.db.prepare("SELECT * FROM containers WHERE image_id = ?").all(imageId) as Row[]).map(
      toRecord,
    );
  }

  /** Takes the container's operation lock for this process, unless a live process holds it. */
  tryLock(
    id: string,
    pid: number,
    start: number,
    holderAlive: (pid: number, start: number) => boolean,
  ): boolean {
    return this.write(() => {
      const row = this.db.prepare("SELECT lock_pid, lock_start FROM containers WHERE id = ?").get(id) as
        | { lock_pid: number | null; lock_start: number | null }
        | undefined;
      if (!row) return true;
      if (
        row.lock_pid !== null &&
        !(row.lock_pid === pid && row.lock_start === start) &&
        holderAlive(row.lock_pid, row.lock_start ?? 0)
      )
        return false;
      this.db.prepare("UPDATE containers SET lock_pid = ?, lock_start = ? WHERE id = ?").run(pid, start, id);
      return true;
    });
  }

  unlock(id: string, pid: number): void {
    this.write(() => {
      this.db
        .prepare("UPDATE containers SET lock_pid = NULL, lock_start = NULL WHERE id = ? AND lock_pid = ?")
        .run(id, pid);
    });
  }

  addVolume(name: string): boolean {
    return (
      this.db
        .prepare("INSERT OR IGNORE INTO volumes (name, created) VALUES (?, ?)")
        .run(name, new Date().toISOString()).changes > 0
    );
  }

  deleteVolume(name: string): void {
    this.db.prepare("DELETE FROM volumes WHERE name = ?").run(name);
  }
}

export function nameInUse(name: string, holder: string): ContainerConflictError {
  return new ContainerConflictError(
    `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
}
