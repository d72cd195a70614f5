import { Digest } from "../../../oci/digest.js";
import { GcLockedError } from "../../domain-errors.js";
import type { GcStore, HeldLock, StoredBlob, UsedEntry } from "../metadata.js";
import type { PgConnection } from "./connection.js";
import { GC_LOCK } from "./schema.js";

/**
 * Garbage collection's reads and conditional deletes in PostgreSQL. The lock is an advisory lock
 * held on a connection: a collector that dies releases it at once.
 */
export class PostgresGcStore implements GcStore {
  constructor(private readonly db: PgConnection) {}

  lock(wait: boolean): Promise<HeldLock> {
    return this.db.holdLock(
      async (client) => {
        if (wait) {
          await client.query("SELECT pg_advisory_lock($1)", [GC_LOCK]);
          return true;
        }
        const r = await client.query("SELECT pg_try_advisory_lock($1) AS ok", [GC_LOCK]);
        return r.rows[0]?.ok === true;
      },
      (client) => client.query("SELECT pg_advisory_unlock($1)", [GC_LOCK]),
      () => new GcLockedError("another garbage collection is running (it holds the lock in PostgreSQL)"),
    );
  }

  async repositories(): Promise<string[]> {
    const r = await this.db.query(
      `SELECT name FROM repositories UNION SELECT repository FROM layer_links
       UNION SELECT repository FROM revisions UNION SELECT repository FROM uploads`,
      [],
    );
    return r.rows.map((row) => row.name as string).sort();
  }

  async tags(repository: string): Promise<Map<string, Digest>> {
    const r = await this.db.query("SELECT tag, digest FROM tags WHERE repository = $1", [repository]);
    return new Map(r.rows.map((row) => [row.tag as string, Digest.parse(row.digest as string)]));
  }

  async revisions(repository: string): Promise<UsedEntry[]> {
    const r = await this.db.query("SELECT digest, last_used FROM revisions WHERE repository = $1", [
      repository,
    ]);
    return r.rows.map((row) => ({ digest: Digest.parse(row.digest), lastUsed: row.last_used }));
  }

  async layerLinks(repository: string): Promise<UsedEntry[]> {
    const r = await this.db.query("SELECT digest, last_used FROM layer_links WHERE repository = $1", [
      repository,
    ]);
    return r.rows.map((row) => ({ digest: Digest.parse(row.digest), lastUsed: row.last_used }));
  }

  async blobs(): Promise<StoredBlob[]> {
    const r = await this.db.query("SELECT digest, size, last_used FROM blobs", []);
    return r.rows.map((row) => ({
      digest: Digest.parse(row.digest),
      size: Number(row.size),
      lastUsed: row.last_used,
    }));
  }

  async removeRevisionIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean> {
    const r = await this.db.query(
      `DELETE FROM revisions v WHERE repository = $1 AND digest = $2 AND last_used < $3
       AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository = $1 AND t.digest = $2)`,
      [repository, digest.toString(), cutoff],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async removeLayerLinkIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean> {
    const r = await this.db.query(
      `DELETE FROM layer_links WHERE repository = $1 AND digest = $2 AND last_used < $3
       AND NOT EXISTS (SELECT 1 FROM manifest_references m WHERE m.repository = $1 AND m.digest = $2)`,
      [repository, digest.toString(), cutoff],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async removeBlobIfUnused(
    digest: Digest,
    cutoff: Date,
    removeData: () => Promise<void>,
  ): Promise<number | undefined> {
    return this.db.transaction(async (c) => {
      const r = await c.query(
        `SELECT size FROM blobs b WHERE digest = $1 AND last_used < $2
         AND NOT EXISTS (SELECT 1 FROM layer_links l WHERE l.digest = $1)
         AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.digest = $1)
         AND NOT EXISTS (SELECT 1 FROM manifest_references m WHERE m.digest = $1)
         FOR UPDATE`,
        [digest.toString(), cutoff],
      );
      if (r.rowCount === 0) return undefined;
      // Checked again on the locked row: a use that committed while we waited for the lock shows now.
      const again = await c.query("SELECT last_used < $2 AS old FROM blobs WHERE digest = $1", [
        digest.toString(),
        cutoff,
      ]);
      if (!again.rows[0]?.old) return undefined;
      // Under the row lock: a push committing the same blob waits, then puts the bytes back.
      await removeData();
      await c.query("DELETE FROM blobs WHERE digest = $1", [digest.toString()]);
      return Number(r.rows[0].size);
    });
  }
}
