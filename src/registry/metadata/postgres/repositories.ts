import type { Descriptor } from "../../../oci/descriptor.js";
import { Digest } from "../../../oci/digest.js";
import { BlobUnknownError, ManifestBlobUnknownError } from "../../domain-errors.js";
import type { RepositoryStore, RevisionRecord } from "../metadata.js";
import type { PgConnection } from "./connection.js";

/**
 * Repositories in PostgreSQL: each call is one statement or one transaction, and the uses a push
 * makes (a manifest PUT checking its blobs, a mount, a committed upload) lock the rows they rely
 * on, so that a collection's conditional deletes cannot slip in between.
 */
export class PostgresRepositoryStore implements RepositoryStore {
  constructor(private readonly db: PgConnection) {}

  async blobSize(digest: Digest): Promise<number | undefined> {
    const r = await this.db.query(
      "SELECT size FROM blobs WHERE digest = $1",
      [digest.toString()],
      "blob-size",
    );
    return r.rows[0] ? Number(r.rows[0].size) : undefined;
  }

  async commitBlob(digest: Digest, size: number, place: () => Promise<void>): Promise<void> {
    await this.db.transaction(async (c) => {
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
    const r = await this.db.query(
      `SELECT b.size FROM layer_links l JOIN blobs b ON b.digest = l.digest
       WHERE l.repository = $1 AND l.digest = $2`,
      [repository, digest.toString()],
      "repository-blob-size",
    );
    return r.rows[0] ? Number(r.rows[0].size) : undefined;
  }

  async linkBlob(repository: string, digest: Digest): Promise<void> {
    const r = await this.db.query(
      `WITH used AS (UPDATE blobs SET last_used = now() WHERE digest = $2 RETURNING digest)
       INSERT INTO layer_links (repository, digest, last_used) SELECT $1, digest, now() FROM used
       ON CONFLICT (repository, digest) DO UPDATE SET last_used = now()
       RETURNING 1`,
      [repository, digest.toString()],
    );
    if (r.rowCount === 0) throw new BlobUnknownError(digest.toString());
  }

  async unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    const r = await this.db.query("DELETE FROM layer_links WHERE repository = $1 AND digest = $2", [
      repository,
      digest.toString(),
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async revisionExists(repository: string, digest: Digest): Promise<boolean> {
    const r = await this.db.query(
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
    await this.db.transaction(async (c) => {
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
    const r = await this.db.query("DELETE FROM revisions WHERE repository = $1 AND digest = $2", [
      repository,
      digest.toString(),
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    const r = await this.db.query(
      "SELECT digest FROM tags WHERE repository = $1 AND tag = $2",
      [repository, tag],
      "resolve-tag",
    );
    const value = r.rows[0]?.digest as string | undefined;
    return value && Digest.isValid(value) ? Digest.parse(value) : undefined;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const r = await this.db.query("DELETE FROM tags WHERE repository = $1 AND tag = $2", [repository, tag]);
    return (r.rowCount ?? 0) > 0;
  }

  async listTags(repository: string): Promise<string[] | undefined> {
    const r = await this.db.query(
      `SELECT t.tag FROM repositories p LEFT JOIN tags t ON t.repository = p.name
       WHERE p.name = $1 ORDER BY t.tag`,
      [repository],
      "list-tags",
    );
    if (r.rowCount === 0) return undefined;
    return r.rows.map((row) => row.tag as string | null).filter((t): t is string => t !== null);
  }

  async listRepositories(): Promise<string[]> {
    const r = await this.db.query("SELECT name FROM repositories ORDER BY name", [], "list-repositories");
    return r.rows.map((row) => row.name as string);
  }

  async listReferrers(repository: string, subject: Digest): Promise<Descriptor[]> {
    const r = await this.db.query(
      `SELECT referrer FROM revisions WHERE repository = $1 AND subject = $2 AND referrer IS NOT NULL
       ORDER BY digest`,
      [repository, subject.toString()],
    );
    return r.rows.map((row) => row.referrer as Descriptor);
  }
}

function missing(wanted: string[], rows: { digest: string }[], what: "blob" | "manifest"): void {
  const found = new Set(rows.map((r) => r.digest));
  const absent = wanted.find((d) => !found.has(d));
  if (absent !== undefined) throw new ManifestBlobUnknownError(absent, what);
}
