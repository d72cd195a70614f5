import type Database from "better-sqlite3";

/**
 * The runtime's tables, in the store's own database (ROOT/berth.db) beside the images': one
 * file, one WAL, so "is this image used by a container" and "remove the image" can be one
 * transaction. Every change runs in an IMMEDIATE transaction (ImageDb.write).
 */
const RUNTIME_SCHEMA = `
CREATE TABLE IF NOT EXISTS containers (
  id            TEXT PRIMARY KEY,       -- 64 hex
  name          TEXT NOT NULL UNIQUE,   -- without Docker's leading "/"
  image_id      TEXT NOT NULL,          -- sha256:…, the image's config digest
  image         TEXT NOT NULL,          -- the image as the user named it (ps IMAGE)
  config        TEXT NOT NULL,          -- JSON ContainerSettings: what create decided
  state         TEXT NOT NULL,          -- created | running | restarting | exited | dead
  pid           INTEGER,                -- the container's init process (host view)
  pid_start     INTEGER,                -- its start time (/proc/PID/stat), against pid reuse
  conmon_pid    INTEGER,
  conmon_start  INTEGER,
  slirp_pid     INTEGER,
  slirp_start   INTEGER,
  exit_code     INTEGER NOT NULL DEFAULT 0,
  error         TEXT NOT NULL DEFAULT '',
  created       TEXT NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  restart_count INTEGER NOT NULL DEFAULT 0,
  stopped_by_user INTEGER NOT NULL DEFAULT 0,  -- stop/kill: restart policies leave it stopped
  lock_pid      INTEGER,                -- a berth process working on it (start, stop, rm)
  lock_start    INTEGER
);
CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);
CREATE TABLE IF NOT EXISTS volumes (
  name    TEXT PRIMARY KEY,
  created TEXT NOT NULL
);
`;

/** Creates the runtime's tables once (a read when they exist, so `ps` takes no write lock). */
export function applyRuntimeSchema(db: Database.Database): void {
  const have = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'containers'").get();
  if (have) return;
  db.transaction(() => db.exec(RUNTIME_SCHEMA)).immediate();
}
