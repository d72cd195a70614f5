import pg from "pg";
import type { Descriptor } from "../../oci/descriptor.js";
import { Digest } from "../../oci/digest.js";
import {
  BackendUnavailableError,
  BlobUnknownError,
  GcLockedError,
  ManifestBlobUnknownError,
  UploadBusyError,
} from "../domain-errors.js";
import type {
  RegistryMetadata,
  Release,
  RevisionRecord,
  StoredBlob,
  UploadSessionRef,
  UsedEntry,
} from "./metadata.js";
import { GC_LOCK, SCHEMA, SCHEMA_LOCK } from "./postgres-schema.js";

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections for queries. */
  poolSize: number;
  /** Connections held by uploads being written (each holds its session's advisory lock). */
  lockPoolSize: number;
}

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Metadata in PostgreSQL, shared by every replica: each call is one statement or one
 * transaction, and the uses a push makes (a manifest PUT checking its blobs, a mount, a committed
 * upload) lock the rows they rely on, so that a collection's conditional deletes cannot slip in
 * between. Upload sessions and the GC lock are advisory locks held on a connection: a replica that
 * dies drops its connection, and the lock with it, so a client can continue on another at once.
 */
export class PostgresMetadata implements RegistryMetadata {
  readonly kind = "postgres";
  private readonly pool: pg.Pool;
  private readonly locks: pg.Pool;

  private constructor(options: PostgresOptions) {
    const base = { connectionString: options.url, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30_000 };
    this.pool = new pg.Pool({ ...base, max: options.poolSize });
    this.locks = new pg.Pool({ ...base, max: options.lockPoolSize });
    // An idle connection dropped by the server (a restart) is replaced on the next query.
    this.pool.on("error", () => {});
    this.locks.on("error", () => {});
  }

  static async open(options: PostgresOptions): Promise<PostgresMetadata> {
    const metadata = new PostgresMetadata(options);
    try {
      await metadata.transaction(async (c) => {
        await c.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
        await c.query(SCHEMA);
      });
    } catch (err) {
      await metadata.close();
      throw err;
    }
    return metadata;
  }

  async blobSize(digest: Digest): Promise<number | undefined> {
    const r = await this.query("SELECT size FROM blobs WHERE digest = $1", [digest.toString()], "blob-size");
    return r.rows[0] ? Number(r.rows[0].size) : undefined;
  }

  async commitBlob(digest: Digest, size: number, place: () => Promise<void>): Promise<void> {
    await this.transaction(async (c) => {
      // The row lock keeps a collection from deleting the blob until the bytes are in place.
      await c.query(
        `INSERT INTO blobs (digest, size, last_used) VALUES ($1, $2, now())
         ON CONFLICT (digest) DO UPDATE SET last_used = now()`,
        [digest.toString(), size],
      );
      await place();
    });
  }

  async repositoryBlobSize(repository: string, digest: Digest): Promise<number | undefined> {
    const r = await this.query(
      `SELECT b.size FROM layer_links l JOIN blobs b ON b.digest = l.digest
       WHERE l.repository = $1 AND l.digest = $2`,
      [repository, digest.toString()],
      "repository-blob-size",
    );
    return r.rows[0] ? Number(r.rows[0].size) : undefined;
  }

  async linkBlob(repository: string, digest: Digest): Promise<void> {
    const r = await this.query(
      `WITH used AS (UPDATE blobs SET last_used = now() WHERE digest = $2 RETURNING digest)
       INSERT INTO layer_links (repository, digest, last_used) SELECT $1, digest, now() FROM used
       ON CONFLICT (repository, digest) DO UPDATE SET last_used = now()
       RETURNING 1`,
      [repository, digest.toString()],
    );
    if (r.rowCount === 0) throw new BlobUnknownError(digest.toString());
  }

  async unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    const r = await this.query("DELETE FROM layer_links WHERE repository = $1 AND digest = $2", [
      repository,
      digest.toString(),
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async revisionExists(repository: string, digest: Digest): Promise<boolean> {
    const r = await this.query(
      "SELECT 1 FROM revisions WHERE repository = $1 AND digest = $2",
      [repository, digest.toString()],
      "revision-exists",
    );
    return r.rowCount === 1;
  }

  async putRevision(repository: string, record: RevisionRecord, tag?: string): Promise<void> {
    const blobs = [
      ...new Set(record.references.filter((r) => r.kind === "blob").map((r) => r.digest.toString())),
    ].sort();
    const children = [
      ...new Set(record.references.filter((r) => r.kind === "manifest").map((r) => r.digest.toString())),
    ].sort();
    await this.transaction(async (c) => {
      // Lock, in a fixed order (so concurrent pushes cannot deadlock), everything this manifest
      // needs; a collection deleting one of them either finished first (and it is missing here)
      // or waits and then sees it used.
      if (blobs.length > 0) {
        const linked = await c.query(
          `SELECT digest FROM layer_links WHERE repository = $1 AND digest = ANY($2) ORDER BY digest FOR UPDATE`,
          [repository, blobs],
        );
        missing(blobs, linked.rows, "blob");
        await c.query("UPDATE layer_links SET last_used = now() WHERE repository = $1 AND digest = ANY($2)", [
          repository,
          blobs,
        ]);
      }
      if (children.length > 0) {
        const present = await c.query(
          `SELECT digest FROM revisions WHERE repository = $1 AND digest = ANY($2) ORDER BY digest FOR UPDATE`,
          [repository, children],
        );
        missing(children, present.rows, "manifest");
        await c.query("UPDATE revisions SET last_used = now() WHERE repository = $1 AND digest = ANY($2)", [
          repository,
          children,
        ]);
      }
      const all = [...new Set([...blobs, ...children])].sort();
      if (all.length > 0) {
        const stored = await c.query(
          "SELECT digest FROM blobs WHERE digest = ANY($1) ORDER BY digest FOR UPDATE",
          [all],
        );
        missing(all, stored.rows, "blob");
        await c.query("UPDATE blobs SET last_used = now() WHERE digest = ANY($1)", [all]);
      }
      await c.query("INSERT INTO repositories (name) VALUES ($1) ON CONFLICT DO NOTHING", [repository]);
      const digest = record.digest.toString();
      await c.query(
        `INSERT INTO revisions (repository, digest, media_type, size, subject, referrer, last_used)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (repository, digest) DO UPDATE SET last_used = now()`,
        [
          repository,
          digest,
          record.mediaType,
          record.size,
          record.subject?.toString() ?? null,
          record.referrer ? JSON.stringify(record.referrer) : null,
        ],
      );
      if (record.references.length > 0) {
        await c.query(
          `INSERT INTO manifest_references (repository, manifest, digest, kind)
           SELECT $1, $2, d, k FROM unnest($3::text[], $4::text[]) AS t(d, k)
           ON CONFLICT DO NOTHING`,
          [
            repository,
            digest,
            record.references.map((r) => r.digest.toString()),
            record.references.map((r) => r.kind),
          ],
        );
      }
      if (tag !== undefined) {
        await c.query(
          `INSERT INTO tags (repository, tag, digest) VALUES ($1, $2, $3)
           ON CONFLICT (repository, tag) DO UPDATE SET digest = EXCLUDED.digest`,
          [repository, tag, digest],
        );
      }
    });
  }

  async deleteRevision(repository: string, digest: Digest): Promise<boolean> {
    const r = await this.query("DELETE FROM revisions WHERE repository = $1 AND digest = $2", [
      repository,
      digest.toString(),
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    const r = await this.query(
      "SELECT digest FROM tags WHERE repository = $1 AND tag = $2",
      [repository, tag],
      "resolve-tag",
    );
    const value = r.rows[0]?.digest as string | undefined;
    return value && Digest.isValid(value) ? Digest.parse(value) : undefined;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const r = await this.query("DELETE FROM tags WHERE repository = $1 AND tag = $2", [repository, tag]);
    return (r.rowCount ?? 0) > 0;
  }

  async listTags(repository: string): Promise<string[] | undefined> {
    const r = await this.query(
      `SELECT t.tag FROM repositories p LEFT JOIN tags t ON t.repository = p.name
       WHERE p.name = $1 ORDER BY t.tag`,
      [repository],
      "list-tags",
    );
    if (r.rowCount === 0) return undefined;
    return r.rows.map((row) => row.tag as string | null).filter((t): t is string => t !== null);
  }

  async listRepositories(): Promise<string[]> {
    const r = await this.query("SELECT name FROM repositories ORDER BY name", [], "list-repositories");
    return r.rows.map((row) => row.name as string);
  }

  async listReferrers(repository: string, subject: Digest): Promise<Descriptor[]> {
    const r = await this.query(
      `SELECT referrer FROM revisions WHERE repository = $1 AND subject = $2 AND referrer IS NOT NULL
       ORDER BY digest`,
      [repository, subject.toString()],
    );
    return r.rows.map((row) => row.referrer as Descriptor);
  }

  async createUpload(repository: string, uuid: string): Promise<void> {
    await this.query("INSERT INTO uploads (repository, uuid) VALUES ($1, $2)", [repository, uuid]);
  }

  async uploadExists(repository: string, uuid: string): Promise<boolean> {
    const r = await this.query(
      "SELECT 1 FROM uploads WHERE repository = $1 AND uuid = $2",
      [repository, uuid],
      "upload-exists",
    );
    return r.rowCount === 1;
  }

  async lockUpload(repository: string, uuid: string): Promise<Release> {
    const client = await this.connect(this.locks);
    try {
      const r = await client.query("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok", [
        repository,
        uuid,
      ]);
      if (!r.rows[0]?.ok) throw new UploadBusyError(uuid);
    } catch (err) {
      client.release();
      throw translate(err);
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        await client.query("SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", [repository, uuid]);
        client.release();
      } catch (err) {
        // The connection is gone, and the lock with it.
        client.release(err as Error);
      }
    };
  }

  async removeUpload(repository: string, uuid: string): Promise<void> {
    await this.query("DELETE FROM uploads WHERE repository = $1 AND uuid = $2", [repository, uuid]);
  }

  async uploadsStartedBefore(cutoff: Date): Promise<UploadSessionRef[]> {
    const r = await this.query("SELECT repository, uuid, started_at FROM uploads WHERE started_at < $1", [
      cutoff,
    ]);
    return r.rows.map((row) => ({ repository: row.repository, uuid: row.uuid, startedAt: row.started_at }));
  }

  /** A value all replicas share (the generated token signing key): the first writer's wins. */
  async sharedSetting(name: string, create: () => Promise<string>): Promise<string> {
    const existing = await this.query("SELECT value FROM settings WHERE name = $1", [name]);
    if (existing.rows[0]) return existing.rows[0].value as string;
    const value = await create();
    await this.query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
      name,
      value,
    ]);
    const winner = await this.query("SELECT value FROM settings WHERE name = $1", [name]);
    return winner.rows[0].value as string;
  }

  // ---- garbage collection ------------------------------------------------------------------

  async acquireGcLock(wait: boolean): Promise<Release> {
    const client = await this.connect(this.locks);
    try {
      if (wait) {
        await client.query("SELECT pg_advisory_lock($1)", [GC_LOCK]);
      } else {
        const r = await client.query("SELECT pg_try_advisory_lock($1) AS ok", [GC_LOCK]);
        if (!r.rows[0]?.ok) {
          throw new GcLockedError("another garbage collection is running (it holds the lock in PostgreSQL)");
        }
      }
    } catch (err) {
      client.release();
      throw translate(err);
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        await client.query("SELECT pg_advisory_unlock($1)", [GC_LOCK]);
        client.release();
      } catch (err) {
        client.release(err as Error);
      }
    };
  }

  async gcRepositories(): Promise<string[]> {
    const r = await this.query(
      `SELECT name FROM repositories UNION SELECT repository FROM layer_links
       UNION SELECT repository FROM revisions UNION SELECT repository FROM uploads`,
      [],
    );
    return r.rows.map((row) => row.name as string).sort();
  }

  async gcTags(repository: string): Promise<Map<string, Digest>> {
    const r = await this.query("SELECT tag, digest FROM tags WHERE repository = $1", [repository]);
    return new Map(r.rows.map((row) => [row.tag as string, Digest.parse(row.digest as string)]));
  }

  async gcRevisions(repository: string): Promise<UsedEntry[]> {
    const r = await this.query("SELECT digest, last_used FROM revisions WHERE repository = $1", [repository]);
    return r.rows.map((row) => ({ digest: Digest.parse(row.digest), lastUsed: row.last_used }));
  }

  async gcLayerLinks(repository: string): Promise<UsedEntry[]> {
    const r = await this.query("SELECT digest, last_used FROM layer_links WHERE repository = $1", [
      repository,
    ]);
    return r.rows.map((row) => ({ digest: Digest.parse(row.digest), lastUsed: row.last_used }));
  }

  async gcBlobs(): Promise<StoredBlob[]> {
    const r = await this.query("SELECT digest, size, last_used FROM blobs", []);
    return r.rows.map((row) => ({
      digest: Digest.parse(row.digest),
      size: Number(row.size),
      lastUsed: row.last_used,
    }));
  }

  async removeRevisionIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean> {
    const r = await this.query(
      `DELETE FROM revisions v WHERE repository = $1 AND digest = $2 AND last_used < $3
       AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository = $1 AND t.digest = $2)`,
      [repository, digest.toString(), cutoff],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async removeLayerLinkIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean> {
    const r = await this.query(
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
    return this.transaction(async (c) => {
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

  async close(): Promise<void> {
    await Promise.allSettled([this.pool.end(), this.locks.end()]);
  }

  private async query(text: string, values: unknown[], name?: string): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(name ? { name, text, values } : { text, values });
    } catch (err) {
      throw translate(err);
    }
  }

  private async connect(pool: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      throw translate(err);
    }
  }

  private async transaction<T>(fn: (client: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect(this.pool);
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const result = await fn(client);
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
        // Deadlock or serialization failure: nothing was written, so doing it again is safe.
        const code = (err as { code?: string }).code;
        if ((code === "40P01" || code === "40001") && attempt < 3) continue;
        throw translate(err);
      } finally {
        client.release(broken);
      }
    }
  }
}

function missing(wanted: string[], rows: { digest: string }[], what: "blob" | "manifest"): void {
  const found = new Set(rows.map((r) => r.digest));
  const absent = wanted.find((d) => !found.has(d));
  if (absent !== undefined) throw new ManifestBlobUnknownError(absent, what);
}

/** Connection failures become BackendUnavailableError (503); domain errors pass through. */
function translate(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? "";
  if (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"].includes(code) ||
    code.startsWith("08") ||
    code === "57P01" ||
    code === "57P02" ||
    code === "57P03" ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      e?.message ?? "",
    )
  ) {
    return new BackendUnavailableError("metadata", `PostgreSQL: ${e.message ?? code}`);
  }
  return err;
}
