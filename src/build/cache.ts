import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import type Database from "better-sqlite3";
import { collectGarbage } from "../images/gc.js";
import type { LocalStore } from "../images/local-store.js";
import type { DigestMemo } from "./copy.js";
import type { StepAction } from "./evaluate.js";

/**
 * The build cache: one row per step that made a layer, keyed by everything the step's result
 * depends on (cacheKey below). It lives in the store's database, in a table of its own, so a
 * hit is one indexed read and two builds at once share it (every write is one IMMEDIATE
 * transaction; a step two builds ran at once keeps the later row, and both layers are valid).
 * Layers are the store's own, held by the cache's lasting lease so that rmi and image prune leave
 * them; a row whose layer is gone anyway is a miss. `builder prune` removes rows, then every layer
 * that no image and no remaining row uses.
 */

export const BUILD_CACHE_SCHEMA = `
CREATE TABLE IF NOT EXISTS build_cache (
  key         TEXT PRIMARY KEY,     -- sha256 over the step's inputs
  chain_id    TEXT NOT NULL,        -- the layer the step made, with everything below it
  diff_id     TEXT NOT NULL,
  created     TEXT NOT NULL,        -- when the layer was made: its history entry's time
  description TEXT NOT NULL,        -- the step, as progress names it
  size        INTEGER NOT NULL,     -- the layer's size (layers.size)
  created_at  TEXT NOT NULL,
  last_used   TEXT NOT NULL,
  usage_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS build_cache_chain ON build_cache(chain_id);
-- the build cache's lasting lease (images/leases.ts): it holds every layer a row names, so that
-- rmi and image prune, which delete what no image uses, leave the cache's layers alone
CREATE TABLE IF NOT EXISTS build_cache_lease (
  id TEXT PRIMARY KEY
);
-- sha256 of build-context files, valid while device, inode, size, mtime and ctime are the same
-- (a write changes ctime, which no one can set back), so a rebuild need not read unchanged files
CREATE TABLE IF NOT EXISTS build_file_digests (
  path     TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  digest   TEXT NOT NULL
);
-- the opaque directories of an unpacked layer (a JSON array of paths), found once by walking it:
-- what a chain ID names never changes, so they stay true for as long as the layer exists
CREATE TABLE IF NOT EXISTS build_layer_opaque (
  chain_id TEXT PRIMARY KEY,
  dirs     TEXT NOT NULL
);
`;

export interface CacheEntry {
  key: string;
  chainId: string;
  diffId: string;
  created: string;
  description: string;
  size: number;
  createdAt: string;
  lastUsed: string;
  usageCount: number;
}

interface Row {
  key: string;
  chain_id: string;
  diff_id: string;
  created: string;
  description: string;
  size: number;
  created_at: string;
  last_used: string;
  usage_count: number;
}

function toEntry(r: Row): CacheEntry {
  return {
    key: r.key,
    chainId: r.chain_id,
    diffId: r.diff_id,
    created: r.created,
    description: r.description,
    size: r.size,
    createdAt: r.created_at,
    lastUsed: r.last_used,
    usageCount: r.usage_count,
  };
}

/**
 * A step's cache key: the layers it runs on (the chain ID of everything below, which names the
 * base image's layers and every earlier step's result), the step as evaluated (command, the
 * environment with ARG and ENV values, user, working directory, network; or the sources and
 * destination, --chown and --chmod), and for COPY and ADD the content hash of what it copies.
 * Proxy variables are left out, as BuildKit does, so a changed proxy does not rebuild.
 */
export function cacheKey(parentChain: string | null, action: StepAction, contentHash?: string): string {
  const { proxyEnv: _proxy, ...rest } = action as StepAction & { proxyEnv?: string[] };
  const material =
    action.kind === "copy"
      ? { ...rest, from: undefined, sources: undefined, inline: undefined, content: contentHash }
      : { ...rest, content: contentHash };
  const json = JSON.stringify({ v: 1, parent: parentChain ?? "scratch", step: material });
  return `sha256:${createHash("sha256").update(json).digest("hex")}`;
}

export class BuildCache {
  private constructor(
    private readonly store: LocalStore,
    private readonly db: Database.Database,
    private readonly leaseId: string,
  ) {}

  static open(store: LocalStore): BuildCache {
    const db = store.db.connection;
    const lease = () =>
      (
        db.prepare("SELECT c.id FROM build_cache_lease c JOIN leases l ON l.id = c.id").get() as
          | { id: string }
          | undefined
      )?.id;
    // Every table of the schema, so that a store made by an older Berth gets the newer ones.
    const { tables } = db
      .prepare(
        "SELECT count(*) AS tables FROM sqlite_master WHERE type = 'table' AND name IN ('build_cache', 'build_cache_lease', 'build_file_digests', 'build_layer_opaque')",
      )
      .get() as { tables: number };
    const ready = tables === 4 ? lease() : undefined;
    if (ready) return new BuildCache(store, db, ready);
    const id = store.db.write(() => {
      db.exec(BUILD_CACHE_SCHEMA);
      const existing = lease();
      if (existing) return existing;
      const fresh = `build-cache-${randomUUID()}`;
      db.prepare("DELETE FROM build_cache_lease").run();
      store.db.addLease(fresh, null, null);
      db.prepare("INSERT INTO build_cache_lease (id) VALUES (?)").run(fresh);
      // Rows from before the lease (or from a store whose lease was lost) are held again.
      for (const r of db.prepare("SELECT DISTINCT chain_id FROM build_cache").all() as { chain_id: string }[])
        store.db.addLeaseRef(fresh, "layer", r.chain_id);
      return fresh;
    });
    return new BuildCache(store, db, id);
  }

  /** The entry for a key, if its layer is still in the store (else the entry is dropped). */
  lookup(key: string): CacheEntry | undefined {
    const row = this.db.prepare("SELECT * FROM build_cache WHERE key = ?").get(key) as Row | undefined;
    if (!row) return undefined;
    if (!this.store.db.layer(row.chain_id) || !existsSync(this.store.layerDiffDir(row.chain_id))) {
      this.store.db.write(() => this.db.prepare("DELETE FROM build_cache WHERE key = ?").run(key));
      return undefined;
    }
    const now = new Date().toISOString();
    this.store.db.write(() =>
      this.db
        .prepare("UPDATE build_cache SET last_used = ?, usage_count = usage_count + 1 WHERE key = ?")
        .run(now, key),
    );
    return toEntry({ ...row, last_used: now, usage_count: row.usage_count + 1 });
  }

  /** A layer's opaque directories, as remembered by a build before (see LayerStack). */
  opaqueDirs(chainId: string): Set<string> | undefined {
    const row = this.db.prepare("SELECT dirs FROM build_layer_opaque WHERE chain_id = ?").get(chainId) as
      | { dirs: string }
      | undefined;
    return row ? new Set(JSON.parse(row.dirs) as string[]) : undefined;
  }

  rememberOpaqueDirs(chainId: string, dirs: Set<string>): void {
    this.store.db.write(() =>
      this.db
        .prepare("INSERT OR REPLACE INTO build_layer_opaque (chain_id, dirs) VALUES (?, ?)")
        .run(chainId, JSON.stringify([...dirs])),
    );
  }

  /** The remembered digests of context files (see hashPlan). */
  readonly fileDigests: DigestMemo = {
    get: (paths) => {
      const out = new Map<string, { identity: string; digest: string }>();
      const stmt = this.db.prepare("SELECT identity, digest FROM build_file_digests WHERE path = ?");
      this.store.db.read(() => {
        for (const p of paths) {
          const row = stmt.get(p) as { identity: string; digest: string } | undefined;
          if (row) out.set(p, row);
        }
      });
      return out;
    },
    put: (entries) => {
      const stmt = this.db.prepare(
        "INSERT INTO build_file_digests (path, identity, digest) VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE SET identity = excluded.identity, digest = excluded.digest",
      );
      this.store.db.write(() => {
        for (const e of entries) stmt.run(e.path, e.identity, e.digest);
      });
    },
  };

  put(entry: Omit<CacheEntry, "createdAt" | "lastUsed" | "usageCount">): void {
    const now = new Date().toISOString();
    this.store.db.write(() => {
      this.db
        .prepare(
          `INSERT INTO build_cache (key, chain_id, diff_id, created, description, size, created_at, last_used, usage_count)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
           ON CONFLICT(key) DO UPDATE SET chain_id = excluded.chain_id, diff_id = excluded.diff_id,
             created = excluded.created, description = excluded.description, size = excluded.size,
             last_used = excluded.last_used`,
        )
        .run(entry.key, entry.chainId, entry.diffId, entry.created, entry.description, entry.size, now, now);
      this.store.db.addLeaseRef(this.leaseId, "layer", entry.chainId);
      this.dropUnnamedRefs();
    });
  }

  entries(): (CacheEntry & { inUse: boolean })[] {
    const rows = this.db
      .prepare(
        `SELECT c.*, EXISTS (SELECT 1 FROM image_layers il WHERE il.chain_id = c.chain_id) AS in_use
           FROM build_cache c ORDER BY c.last_used DESC, c.key`,
      )
      .all() as (Row & { in_use: number })[];
    return rows.map((r) => ({ ...toEntry(r), inUse: r.in_use === 1 }));
  }

  /**
   * Bytes the cache holds on its own: layers that rows name and no image uses (each counted
   * once), and how many rows there are.
   */
  usage(): { entries: number; size: number; reclaimable: number } {
    const entries = (this.db.prepare("SELECT COUNT(*) AS n FROM build_cache").get() as { n: number }).n;
    const own = this.db
      .prepare(
        `SELECT COALESCE(SUM(l.size), 0) AS size FROM layers l
          WHERE l.chain_id IN (SELECT chain_id FROM build_cache)
            AND l.chain_id NOT IN (SELECT chain_id FROM image_layers)`,
      )
      .get() as { size: number };
    return { entries, size: own.size, reclaimable: own.size };
  }

  /**
   * Removes cache rows (all with `all`, else those whose layer no image uses), then every layer
   * that no image and no remaining row needs. Returns the removed rows and the bytes freed.
   */
  async prune(all: boolean): Promise<{ removed: CacheEntry[]; reclaimed: number }> {
    const removed = this.store.db.write(() => {
      const rows = (
        all
          ? this.db.prepare("SELECT * FROM build_cache").all()
          : this.db
              .prepare("SELECT * FROM build_cache WHERE chain_id NOT IN (SELECT chain_id FROM image_layers)")
              .all()
      ) as Row[];
      const del = this.db.prepare("DELETE FROM build_cache WHERE key = ?");
      for (const r of rows) del.run(r.key);
      if (all) this.db.prepare("DELETE FROM build_file_digests").run();
      this.dropUnnamedRefs();
      return rows.map(toEntry);
    });
    const { reclaimed } = await collectGarbage(this.store);
    this.store.db.write(() =>
      this.db
        .prepare("DELETE FROM build_layer_opaque WHERE chain_id NOT IN (SELECT chain_id FROM layers)")
        .run(),
    );
    return { removed, reclaimed };
  }

  /** The lease holds exactly the layers that rows name (a replaced row may have named another). */
  private dropUnnamedRefs(): void {
    this.db
      .prepare(
        "DELETE FROM lease_refs WHERE lease_id = ? AND kind = 'layer' AND key NOT IN (SELECT chain_id FROM build_cache)",
      )
      .run(this.leaseId);
  }
}
