import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { directorySize } from "../layer/size.js";
import { SCHEMA, SCHEMA_VERSION } from "./schema.js";

// better-sqlite3 is a CommonJS package: importing it as ESM makes Node lex its sources for
// export names first, 10-20 ms of every berth start that opens the store; require() does not.
const require = createRequire(import.meta.url);
const Database = require("better-sqlite3") as typeof BetterSqlite3;
type Database = BetterSqlite3.Database;

/**
 * The compiled addon where `npm ci` builds it. Given to better-sqlite3 directly, it spares the
 * `bindings` package's search of a dozen candidate paths (about 5 ms of every store opening);
 * when it is elsewhere, that search runs.
 */
const ADDON = (() => {
  const path = join(
    dirname(require.resolve("better-sqlite3/package.json")),
    "build/Release/better_sqlite3.node",
  );
  return existsSync(path) ? path : undefined;
})();

export interface LayerRecord {
  chainId: string;
  diffId: string;
  parent: string | null;
  /** Docker's size of the layer: file contents and symlink targets, each inode once (layer/size.ts). */
  size: number;
}

export interface ImageRecord {
  id: string;
  configSize: number;
  created: string | null;
  os: string;
  architecture: string;
  variant: string | null;
  /** The sum of its layers' sizes. */
  size: number;
  parent: string | null;
  addedAt: string;
}

export interface LayerBlob {
  diffId: string;
  digest: string;
  mediaType: string;
  size: number;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  imageId: string | null;
}

export interface NewImage {
  image: Omit<ImageRecord, "addedAt">;
  layers: LayerRecord[];
  layerBlobs?: LayerBlob[];
  manifests?: ManifestRecord[];
  tag?: { repository: string; tag: string; manifest?: string | null };
  repoDigest?: { repository: string; digest: string };
  blobSources?: { digest: string; registry: string; repository: string }[];
}

interface ImageRow {
  id: string;
  config_size: number;
  created: string | null;
  os: string;
  architecture: string;
  variant: string | null;
  size: number;
  parent: string | null;
  added_at: string;
}

function toImage(row: ImageRow): ImageRecord {
  return {
    id: row.id,
    configSize: row.config_size,
    created: row.created,
    os: row.os,
    architecture: row.architecture,
    variant: row.variant,
    size: row.size,
    parent: row.parent,
    addedAt: row.added_at,
  };
}

/** The schema version from which layer sizes are Docker's (file contents), not tar bytes. */
const SIZES_COUNT_FILES = 4;

/**
 * Stores made before version 4 recorded each layer's tar bytes as its size: each unpacked layer
 * is measured again as Docker measures it (a walk of its directory, once), and the image and
 * build-cache sizes that add them up follow. A layer whose directory is missing keeps its number.
 */
function recountSizes(db: Database, layerDiffDir: (chainId: string) => string): void {
  const layers = db.prepare("SELECT chain_id AS chainId FROM layers").all() as { chainId: string }[];
  const update = db.prepare("UPDATE layers SET size = ? WHERE chain_id = ?");
  for (const { chainId } of layers) {
    const dir = layerDiffDir(chainId);
    if (existsSync(dir)) update.run(directorySize(dir), chainId);
  }
  db.exec(`UPDATE images SET size = (
    SELECT COALESCE(SUM(l.size), 0) FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id
    WHERE il.image_id = images.id)`);
  const cache = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'build_cache'").get();
  if (cache)
    db.exec(`UPDATE build_cache SET size = COALESCE(
      (SELECT size FROM layers WHERE layers.chain_id = build_cache.chain_id), size)`);
}

/**
 * Metadata of the local image store: images, their layers (by chain ID), tags, repo digests,
 * manifests and where blobs are known to live remotely.
 */
export class ImageDb {
  private constructor(private readonly db: Database) {}

  /**
   * Opens (creating or upgrading) the database at `path`. `layerDiffDir` says where a layer is
   * unpacked, for the upgrade that counts layer sizes again from the files on disk.
   */
  static open(path: string, opts: { layerDiffDir?: (chainId: string) => string } = {}): ImageDb {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: 30_000, ...(ADDON ? { nativeBinding: ADDON } : {}) });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    const store = new ImageDb(db);
    // Creating the schema takes the write lock: do it only when the store is new or older.
    if (db.pragma("user_version", { simple: true }) !== SCHEMA_VERSION) {
      store.write(() => {
        // Read again under the lock: another process may have upgraded the store meanwhile.
        const version = db.pragma("user_version", { simple: true }) as number;
        if (version === SCHEMA_VERSION) return;
        db.exec(SCHEMA);
        // Stores made before tags remembered their manifest gain the column.
        const columns = db.prepare("PRAGMA table_info(tags)").all() as { name: string }[];
        if (!columns.some((c) => c.name === "manifest")) db.exec("ALTER TABLE tags ADD COLUMN manifest TEXT");
        if (version > 0 && version < SIZES_COUNT_FILES && opts.layerDiffDir)
          recountSizes(db, opts.layerDiffDir);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      });
    }
    return store;
  }

  close(): void {
    this.db.close();
  }

  /**
   * The SQLite connection itself, for modules that keep tables of their own in the same file
   * (the runtime's containers), so that their transactions and the images' are one.
   */
  get connection(): Database {
    return this.db;
  }

  /** Runs fn in an IMMEDIATE transaction: it takes the write lock up front, so concurrent writers queue instead of failing. */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }

  // ---- layers ------------------------------------------------------------------------------

  layer(chainId: string): LayerRecord | undefined {
    const row = this.db
      .prepare("SELECT chain_id AS chainId, diff_id AS diffId, parent, size FROM layers WHERE chain_id = ?")
      .get(chainId) as LayerRecord | undefined;
    return row;
  }

  addLayer(layer: LayerRecord): void {
    this.db
      .prepare("INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size) VALUES (?, ?, ?, ?)")
      .run(layer.chainId, layer.diffId, layer.parent, layer.size);
  }

  imageLayers(imageId: string): LayerRecord[] {
    return this.db
      .prepare(
        `SELECT l.chain_id AS chainId, l.diff_id AS diffId, l.parent, l.size
           FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id
          WHERE il.image_id = ? ORDER BY il.position`,
      )
      .all(imageId) as LayerRecord[];
  }

  /** Layers that no image references any more (to delete from disk). */
  unreferencedLayers(): LayerRecord[] {
    return this.db
      .prepare(
        `SELECT chain_id AS chainId, diff_id AS diffId, parent, size FROM layers
          WHERE chain_id NOT IN (SELECT chain_id FROM image_layers)`,
      )
      .all() as LayerRecord[];
  }

  /**
   * Bytes of the distinct layers that `imageIds` use (every image's when omitted): a layer that
   * several images share counts once, as `system df` shows it.
   */
  layersSize(imageIds?: readonly string[]): number {
    if (imageIds?.length === 0) return 0;
    const where = imageIds ? `WHERE image_id IN (${imageIds.map(() => "?").join(",")})` : "";
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(size), 0) AS size FROM layers
          WHERE chain_id IN (SELECT chain_id FROM image_layers ${where})`,
      )
      .get(...(imageIds ?? [])) as { size: number };
    return row.size;
  }

  allLayerIds(): string[] {
    return (this.db.prepare("SELECT chain_id FROM layers").all() as { chain_id: string }[]).map(
      (r) => r.chain_id,
    );
  }

  deleteLayer(chainId: string): void {
    this.db.prepare("DELETE FROM layers WHERE chain_id = ?").run(chainId);
  }

  addLayerBlob(blob: LayerBlob): void {
    this.db
      .prepare("INSERT OR IGNORE INTO layer_blobs (diff_id, digest, media_type, size) VALUES (?, ?, ?, ?)")
      .run(blob.diffId, blob.digest, blob.mediaType, blob.size);
  }

  layerBlobs(diffId: string): LayerBlob[] {
    return this.db
      .prepare(
        "SELECT diff_id AS diffId, digest, media_type AS mediaType, size FROM layer_blobs WHERE diff_id = ?",
      )
      .all(diffId) as LayerBlob[];
  }

  /** Compressed blobs whose diff_id no stored layer has any more. */
  orphanLayerBlobs(): LayerBlob[] {
    return this.db
      .prepare(
        `SELECT diff_id AS diffId, digest, media_type AS mediaType, size FROM layer_blobs
          WHERE diff_id NOT IN (SELECT diff_id FROM layers)`,
      )
      .all() as LayerBlob[];
  }

  deleteLayerBlob(digest: string): void {
    this.db.prepare("DELETE FROM layer_blobs WHERE digest = ?").run(digest);
  }

  addBlobSource(digest: string, registry: string, repository: string): void {
    this.db
      .prepare("INSERT OR IGNORE INTO blob_sources (digest, registry, repository) VALUES (?, ?, ?)")
      .run(digest, registry, repository);
  }

  blobSources(digest: string, registry: string): string[] {
    return (
      this.db
        .prepare("SELECT repository FROM blob_sources WHERE digest = ? AND registry = ? ORDER BY repository")
        .all(digest, registry) as { repository: string }[]
    ).map((r) => r.repository);
  }

  // ---- images ------------------------------------------------------------------------------

  /** Records an image with its layers, tag, repo digest and manifests, in one transaction. */
  addImage(img: NewImage): void {
    this.write(() => {
      const i = img.image;
      this.db
        .prepare(
          `INSERT INTO images (id, config_size, created, os, architecture, variant, size, parent, added_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
        )
        .run(
          i.id,
          i.configSize,
          i.created,
          i.os,
          i.architecture,
          i.variant,
          i.size,
          i.parent,
          new Date().toISOString(),
        );
      img.layers.forEach((layer, position) => {
        this.addLayer(layer);
        this.db
          .prepare("INSERT OR IGNORE INTO image_layers (image_id, position, chain_id) VALUES (?, ?, ?)")
          .run(i.id, position, layer.chainId);
      });
      for (const blob of img.layerBlobs ?? []) this.addLayerBlob(blob);
      for (const m of img.manifests ?? []) this.addManifest(m);
      for (const s of img.blobSources ?? []) this.addBlobSource(s.digest, s.registry, s.repository);
      if (img.tag) this.setTag(img.tag.repository, img.tag.tag, i.id, img.tag.manifest ?? null);
      if (img.repoDigest) this.addRepoDigest(img.repoDigest.repository, img.repoDigest.digest, i.id);
    });
  }

  image(id: string): ImageRecord | undefined {
    const row = this.db.prepare("SELECT * FROM images WHERE id = ?").get(id) as ImageRow | undefined;
    return row ? toImage(row) : undefined;
  }

  images(): ImageRecord[] {
    return (this.db.prepare("SELECT * FROM images ORDER BY added_at DESC, id").all() as ImageRow[]).map(
      toImage,
    );
  }

  /** Image IDs that start with a hex prefix (Docker lets users type a short ID). */
  imagesByIdPrefix(hexPrefix: string): string[] {
    return (
      this.db
        .prepare("SELECT id FROM images WHERE id >= ? AND id < ? ORDER BY id")
        .all(`sha256:${hexPrefix}`, `sha256:${hexPrefix}\uffff`) as { id: string }[]
    ).map((r) => r.id);
  }

  children(imageId: string): string[] {
    return (this.db.prepare("SELECT id FROM images WHERE parent = ?").all(imageId) as { id: string }[]).map(
      (r) => r.id,
    );
  }

  deleteImage(id: string): void {
    this.write(() => {
      this.db.prepare("DELETE FROM tags WHERE image_id = ?").run(id);
      this.db.prepare("DELETE FROM repo_digests WHERE image_id = ?").run(id);
      this.db.prepare("UPDATE manifests SET image_id = NULL WHERE image_id = ?").run(id);
      this.db.prepare("UPDATE images SET parent = NULL WHERE parent = ?").run(id);
      this.db.prepare("DELETE FROM image_layers WHERE image_id = ?").run(id);
      this.db.prepare("DELETE FROM images WHERE id = ?").run(id);
    });
  }

  // ---- tags and digests --------------------------------------------------------------------

  /** Points a tag at an image, remembering the manifest it came with (if any); returns the image it pointed at before. */
  setTag(
    repository: string,
    tag: string,
    imageId: string,
    manifest: string | null = null,
  ): string | undefined {
    const previous = this.tagged(repository, tag);
    this.db
      .prepare(
        `INSERT INTO tags (repository, tag, image_id, manifest) VALUES (?, ?, ?, ?)
         ON CONFLICT(repository, tag) DO UPDATE SET image_id = excluded.image_id, manifest = excluded.manifest`,
      )
      .run(repository, tag, imageId, manifest);
    return previous;
  }

  tagManifest(repository: string, tag: string): string | undefined {
    const row = this.db
      .prepare("SELECT manifest FROM tags WHERE repository = ? AND tag = ?")
      .get(repository, tag) as { manifest: string | null } | undefined;
    return row?.manifest ?? undefined;
  }

  tagged(repository: string, tag: string): string | undefined {
    const row = this.db
      .prepare("SELECT image_id FROM tags WHERE repository = ? AND tag = ?")
      .get(repository, tag) as { image_id: string } | undefined;
    return row?.image_id;
  }

  untag(repository: string, tag: string): boolean {
    return (
      this.db.prepare("DELETE FROM tags WHERE repository = ? AND tag = ?").run(repository, tag).changes > 0
    );
  }

  tagsOf(imageId: string): { repository: string; tag: string }[] {
    return this.db
      .prepare("SELECT repository, tag FROM tags WHERE image_id = ? ORDER BY repository, tag")
      .all(imageId) as { repository: string; tag: string }[];
  }

  allTags(): { repository: string; tag: string; imageId: string }[] {
    return this.db
      .prepare("SELECT repository, tag, image_id AS imageId FROM tags ORDER BY repository, tag")
      .all() as { repository: string; tag: string; imageId: string }[];
  }

  addRepoDigest(repository: string, digest: string, imageId: string): void {
    this.db
      .prepare(
        "INSERT INTO repo_digests (repository, digest, image_id) VALUES (?, ?, ?) ON CONFLICT(repository, digest) DO UPDATE SET image_id = excluded.image_id",
      )
      .run(repository, digest, imageId);
  }

  repoDigestsOf(imageId: string): { repository: string; digest: string }[] {
    return this.db
      .prepare("SELECT repository, digest FROM repo_digests WHERE image_id = ? ORDER BY repository, digest")
      .all(imageId) as { repository: string; digest: string }[];
  }

  allRepoDigests(): { repository: string; digest: string; imageId: string }[] {
    return this.db
      .prepare("SELECT repository, digest, image_id AS imageId FROM repo_digests ORDER BY repository, digest")
      .all() as { repository: string; digest: string; imageId: string }[];
  }

  byRepoDigest(repository: string, digest: string): string | undefined {
    const row = this.db
      .prepare("SELECT image_id FROM repo_digests WHERE repository = ? AND digest = ?")
      .get(repository, digest) as { image_id: string } | undefined;
    return row?.image_id;
  }

  deleteRepoDigest(repository: string, digest: string): void {
    this.db.prepare("DELETE FROM repo_digests WHERE repository = ? AND digest = ?").run(repository, digest);
  }

  // ---- manifests ---------------------------------------------------------------------------

  addManifest(m: ManifestRecord): void {
    this.db
      .prepare(
        `INSERT INTO manifests (digest, media_type, size, image_id) VALUES (?, ?, ?, ?)
         ON CONFLICT(digest) DO UPDATE SET image_id = COALESCE(excluded.image_id, manifests.image_id)`,
      )
      .run(m.digest, m.mediaType, m.size, m.imageId);
  }

  manifest(digest: string): ManifestRecord | undefined {
    return this.db
      .prepare(
        "SELECT digest, media_type AS mediaType, size, image_id AS imageId FROM manifests WHERE digest = ?",
      )
      .get(digest) as ManifestRecord | undefined;
  }

  manifestsOf(imageId: string): ManifestRecord[] {
    return this.db
      .prepare(
        "SELECT digest, media_type AS mediaType, size, image_id AS imageId FROM manifests WHERE image_id = ?",
      )
      .all(imageId) as ManifestRecord[];
  }

  deleteManifest(digest: string): void {
    this.db.prepare("DELETE FROM manifests WHERE digest = ?").run(digest);
  }

  // ---- leases and garbage collection -------------------------------------------------------

  addLease(id: string, pid: number | null, pidStarted: number | null): void {
    this.db
      .prepare("INSERT INTO leases (id, pid, pid_started, created) VALUES (?, ?, ?, ?)")
      .run(id, pid, pidStarted, new Date().toISOString());
  }

  addLeaseRef(id: string, kind: "layer" | "blob", key: string): void {
    this.db
      .prepare("INSERT OR IGNORE INTO lease_refs (lease_id, kind, key) VALUES (?, ?, ?)")
      .run(id, kind, key);
  }

  deleteLease(id: string): void {
    this.db.prepare("DELETE FROM leases WHERE id = ?").run(id);
  }

  leases(): { id: string; pid: number | null; pidStarted: number | null }[] {
    return this.db.prepare("SELECT id, pid, pid_started AS pidStarted FROM leases").all() as {
      id: string;
      pid: number | null;
      pidStarted: number | null;
    }[];
  }

  leasedKeys(kind: "layer" | "blob"): Set<string> {
    const rows = this.db.prepare("SELECT DISTINCT key FROM lease_refs WHERE kind = ?").all(kind) as {
      key: string;
    }[];
    return new Set(rows.map((r) => r.key));
  }

  /**
   * Digests of the content store that something still needs: image configs, the manifests
   * and indexes that a tag, a repo digest or an image names, and the compressed forms of
   * stored layers.
   */
  referencedBlobs(): Set<string> {
    const rows = this.db
      .prepare(
        `SELECT id AS digest FROM images
         UNION SELECT m.digest FROM manifests m
                WHERE m.image_id IN (SELECT id FROM images)
                   OR m.digest IN (SELECT digest FROM repo_digests)
                   OR m.digest IN (SELECT manifest FROM tags WHERE manifest IS NOT NULL)
         UNION SELECT digest FROM layer_blobs WHERE diff_id IN (SELECT diff_id FROM layers)`,
      )
      .all() as { digest: string }[];
    return new Set(rows.map((r) => r.digest));
  }

  /** Forgets manifests and layer blobs whose content `referencedBlobs` no longer names. */
  forgetUnreferenced(keep: Set<string>): void {
    for (const { digest } of this.db.prepare("SELECT digest FROM manifests").all() as { digest: string }[]) {
      if (!keep.has(digest)) this.deleteManifest(digest);
    }
    for (const { digest } of this.db.prepare("SELECT DISTINCT digest FROM layer_blobs").all() as {
      digest: string;
    }[]) {
      if (!keep.has(digest)) this.deleteLayerBlob(digest);
    }
  }
}
