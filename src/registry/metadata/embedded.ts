import type { Descriptor } from "../../oci/descriptor.js";
import { Digest } from "../../oci/digest.js";
import { deleteIfExists, exists, listOrEmpty, statOrUndefined } from "../../storage/absent.js";
import { PathNotFoundError } from "../../storage/driver.js";
import type { FilesystemDriver } from "../../storage/filesystem.js";
import { BlobUnknownError, ManifestBlobUnknownError, UploadBusyError } from "../domain-errors.js";
import { layout, RESERVED_DIRS } from "../layout.js";
import { acquireFileLock } from "./file-lock.js";
import type {
  RegistryMetadata,
  Release,
  RevisionRecord,
  StoredBlob,
  UploadSessionRef,
  UsedEntry,
} from "./metadata.js";

const ALGORITHMS = ["sha256", "sha512"] as const;
/** Where a collection parks what it is about to delete (see removeIfUnused). */
const TRASH = "/gc-trash";

/**
 * Metadata kept inside the filesystem driver's tree as distribution lays it out (link files for
 * tags, revisions and layers; a `startedat` file per upload), so existing data directories keep
 * working and nothing else needs setting up. Nothing is cached: every call reads the files, so a
 * `berth registry gc` process and the server see each other's writes.
 *
 * Last use is a file's modification time: using a blob or a link touches it, and touching fails
 * when garbage collection got there first (see gc/filesystem-sweep.ts for the other half).
 */
export class EmbeddedMetadata implements RegistryMetadata {
  readonly kind = "embedded";
  /** Uploads being written by this process; one process serves a filesystem root. */
  private readonly busyUploads = new Set<string>();
  /** Blob sizes by digest: a digest names its bytes, so a size never changes. */
  private readonly sizes = new Map<string, number>();

  constructor(readonly driver: FilesystemDriver) {}

  async blobSize(digest: Digest): Promise<number | undefined> {
    const info = await statOrUndefined(this.driver, layout.blobData(digest));
    if (!info || info.isDir) return undefined;
    this.rememberSize(digest, info.size);
    return info.size;
  }

  async commitBlob(digest: Digest, size: number, place: () => Promise<void>): Promise<void> {
    // Placing renames fresh bytes over the path, so the blob's modification time (its last use) is now.
    await place();
    this.rememberSize(digest, size);
  }

  async repositoryBlobSize(repository: string, digest: Digest): Promise<number | undefined> {
    if (!this.driver.isFileSync(layout.layerLink(repository, digest))) return undefined;
    const known = this.sizes.get(digest.toString());
    return known ?? (await this.blobSize(digest));
  }

  async linkBlob(repository: string, digest: Digest): Promise<void> {
    await touchOr(this.driver, layout.blobData(digest), () => new BlobUnknownError(digest.toString()));
    await this.driver.putContent(layout.layerLink(repository, digest), Buffer.from(digest.toString()));
  }

  async unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    if (!(await exists(this.driver, layout.layerLink(repository, digest)))) return false;
    await deleteIfExists(this.driver, layout.layerLinkDir(repository, digest));
    return true;
  }

  async revisionExists(repository: string, digest: Digest): Promise<boolean> {
    return this.driver.isFileSync(layout.revisionLink(repository, digest));
  }

  async putRevision(repository: string, record: RevisionRecord, tag?: string): Promise<void> {
    await Promise.all(
      record.references.map(async (ref) => {
        const link =
          ref.kind === "manifest"
            ? layout.revisionLink(repository, ref.digest)
            : layout.layerLink(repository, ref.digest);
        const unknown = () => new ManifestBlobUnknownError(ref.digest.toString(), ref.kind);
        await touchOr(this.driver, link, unknown);
        await touchOr(this.driver, layout.blobData(ref.digest), unknown);
      }),
    );
    const value = Buffer.from(record.digest.toString());
    await this.driver.putContent(layout.revisionLink(repository, record.digest), value);
    if (record.subject && record.referrer) {
      await this.driver.putContent(
        layout.referrerEntry(repository, record.subject, record.digest),
        Buffer.from(JSON.stringify(record.referrer)),
      );
    }
    if (tag !== undefined) await this.driver.putContent(layout.tagLink(repository, tag), value);
  }

  async deleteRevision(repository: string, digest: Digest): Promise<boolean> {
    if (!(await this.revisionExists(repository, digest))) return false;
    for (const tag of await listOrEmpty(this.driver, layout.tagsDir(repository))) {
      if ((await this.resolveTag(repository, tag))?.equals(digest)) {
        await deleteIfExists(this.driver, layout.tagDir(repository, tag));
      }
    }
    await deleteIfExists(this.driver, layout.revisionDir(repository, digest));
    // The referrer entry lives under its subject, which only the manifest's bytes name.
    const bytes = await this.driver.getContent(layout.blobData(digest)).catch(() => undefined);
    const subject = bytes ? subjectOf(bytes) : undefined;
    if (subject) await deleteIfExists(this.driver, layout.referrerEntry(repository, subject, digest));
    return true;
  }

  async resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    const link = this.driver.readSmallSync(layout.tagLink(repository, tag))?.toString("utf8").trim();
    return link !== undefined && Digest.isValid(link) ? Digest.parse(link) : undefined;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    if ((await this.resolveTag(repository, tag)) === undefined) return false;
    await deleteIfExists(this.driver, layout.tagDir(repository, tag));
    return true;
  }

  async listTags(repository: string): Promise<string[] | undefined> {
    if (!this.driver.isDirectorySync(layout.manifestsDir(repository))) return undefined;
    // As distribution: a tag is a directory under tags/ (deleting a tag removes its directory).
    return (this.driver.listSync(layout.tagsDir(repository)) ?? []).sort();
  }

  async listRepositories(): Promise<string[]> {
    return (await this.walkRepositories(layout.repositories(), "", "_manifests")).sort();
  }

  async listReferrers(repository: string, subject: Digest): Promise<Descriptor[]> {
    const entries = await listOrEmpty(this.driver, layout.referrersDir(repository, subject));
    const out: Descriptor[] = [];
    for (const entry of entries.sort()) {
      const digest = entryDigest(entry);
      if (!digest || !(await this.revisionExists(repository, digest))) continue;
      try {
        const raw = await this.driver.getContent(layout.referrerEntry(repository, subject, digest));
        out.push(JSON.parse(raw.toString("utf8")) as Descriptor);
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
      }
    }
    return out;
  }

  async createUpload(repository: string, uuid: string): Promise<void> {
    await this.driver.putContent(
      layout.uploadStartedAt(repository, uuid),
      Buffer.from(new Date().toISOString()),
    );
  }

  async uploadExists(repository: string, uuid: string): Promise<boolean> {
    return (
      (await exists(this.driver, layout.uploadStartedAt(repository, uuid))) ||
      (await exists(this.driver, layout.uploadData(repository, uuid)))
    );
  }

  async lockUpload(repository: string, uuid: string): Promise<Release> {
    const key = `${repository}\0${uuid}`;
    if (this.busyUploads.has(key)) throw new UploadBusyError(uuid);
    this.busyUploads.add(key);
    return async () => {
      this.busyUploads.delete(key);
    };
  }

  async removeUpload(repository: string, uuid: string): Promise<void> {
    await deleteIfExists(this.driver, layout.uploadDir(repository, uuid));
  }

  async uploadsStartedBefore(cutoff: Date): Promise<UploadSessionRef[]> {
    const out: UploadSessionRef[] = [];
    for (const repository of await this.walkRepositories(layout.repositories(), "", "_uploads")) {
      for (const uuid of await listOrEmpty(this.driver, layout.uploadsDir(repository))) {
        const key = `${repository}\0${uuid}`;
        if (this.busyUploads.has(key)) continue;
        let started = Number.NaN;
        try {
          started = Date.parse(
            (await this.driver.getContent(layout.uploadStartedAt(repository, uuid))).toString(),
          );
        } catch (err) {
          if (!(err instanceof PathNotFoundError)) throw err;
        }
        if (Number.isNaN(started)) {
          started =
            (await statOrUndefined(this.driver, layout.uploadDir(repository, uuid)))?.modTime.getTime() ?? 0;
        }
        if (started < cutoff.getTime()) out.push({ repository, uuid, startedAt: new Date(started) });
      }
    }
    return out;
  }

  // ---- garbage collection ------------------------------------------------------------------

  async acquireGcLock(wait: boolean): Promise<Release> {
    const release = await acquireFileLock(`${this.driver.rootDirectory}/gc.lock`, wait);
    try {
      await this.recoverTrash();
    } catch (err) {
      await release();
      throw err;
    }
    return release;
  }

  gcRepositories(): Promise<string[]> {
    return this.walkRepositories(layout.repositories(), "", "_manifests", "_layers", "_uploads");
  }

  async gcTags(repository: string): Promise<Map<string, Digest>> {
    const out = new Map<string, Digest>();
    for (const tag of await listOrEmpty(this.driver, layout.tagsDir(repository))) {
      const target = await this.resolveTag(repository, tag);
      if (target) out.set(tag, target);
    }
    return out;
  }

  gcRevisions(repository: string): Promise<UsedEntry[]> {
    return this.usedLinks(
      (d) => layout.revisionLink(repository, d),
      `${layout.manifestsDir(repository)}/revisions`,
    );
  }

  gcLayerLinks(repository: string): Promise<UsedEntry[]> {
    return this.usedLinks((d) => layout.layerLink(repository, d), `${layout.repository(repository)}/_layers`);
  }

  async gcBlobs(): Promise<StoredBlob[]> {
    const out: StoredBlob[] = [];
    for (const algorithm of ALGORITHMS) {
      for (const prefix of await listOrEmpty(this.driver, `/blobs/${algorithm}`)) {
        for (const hex of await listOrEmpty(this.driver, `/blobs/${algorithm}/${prefix}`)) {
          if (!Digest.isValid(`${algorithm}:${hex}`)) continue;
          const digest = Digest.parse(`${algorithm}:${hex}`);
          const info = await statOrUndefined(this.driver, layout.blobData(digest));
          if (info && !info.isDir) out.push({ digest, size: info.size, lastUsed: info.modTime });
        }
      }
    }
    return out;
  }

  async removeRevisionIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean> {
    if (!(await this.removeIfUnused(layout.revisionLink(repository, digest), cutoff))) return false;
    await deleteIfExists(this.driver, layout.revisionDir(repository, digest));
    const bytes = await this.driver.getContent(layout.blobData(digest)).catch(() => undefined);
    const subject = bytes ? subjectOf(bytes) : undefined;
    if (subject) await deleteIfExists(this.driver, layout.referrerEntry(repository, subject, digest));
    return true;
  }

  async removeLayerLinkIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean> {
    if (!(await this.removeIfUnused(layout.layerLink(repository, digest), cutoff))) return false;
    await deleteIfExists(this.driver, layout.layerLinkDir(repository, digest));
    return true;
  }

  async removeBlobIfUnused(digest: Digest, cutoff: Date): Promise<number | undefined> {
    const size = (await statOrUndefined(this.driver, layout.blobData(digest)))?.size;
    if (size === undefined || !(await this.removeIfUnused(layout.blobData(digest), cutoff))) return undefined;
    await deleteIfExists(this.driver, layout.blobData(digest).slice(0, -"/data".length));
    this.sizes.delete(digest.toString());
    return size;
  }

  async close(): Promise<void> {}

  /**
   * The filesystem's conditional delete. The entry is renamed aside (atomic: a touch after this
   * fails, so the user of the entry reports it gone), then its modification time is read again:
   * a touch that landed between the first look and the rename shows there, and the entry is put
   * back. A crash in between leaves the entry in the trash, named by its path, and the next
   * collection puts back what was used since and deletes the rest.
   */
  private async removeIfUnused(path: string, cutoff: Date): Promise<boolean> {
    const before = await statOrUndefined(this.driver, path);
    if (!before || before.isDir || before.modTime >= cutoff) return false;
    const parked = `${TRASH}/${Buffer.from(path).toString("base64url")}`;
    try {
      await this.driver.move(path, parked);
    } catch (err) {
      if (err instanceof PathNotFoundError) return false;
      throw err;
    }
    const after = await this.driver.stat(parked);
    if (after.modTime >= cutoff) {
      await this.driver.move(parked, path);
      return false;
    }
    await this.driver.delete(parked);
    return true;
  }

  private async recoverTrash(): Promise<void> {
    for (const name of await listOrEmpty(this.driver, TRASH)) {
      const parked = `${TRASH}/${name}`;
      const path = Buffer.from(name, "base64url").toString("utf8");
      const info = await statOrUndefined(this.driver, parked);
      // Used within the last hour before the crash: put back; the next collection judges it again.
      if (info && Date.now() - info.modTime.getTime() < 3_600_000 && path.startsWith("/")) {
        await this.driver.move(parked, path);
      } else {
        await deleteIfExists(this.driver, parked);
      }
    }
  }

  private async usedLinks(linkOf: (d: Digest) => string, dir: string): Promise<UsedEntry[]> {
    const out: UsedEntry[] = [];
    for (const algorithm of ALGORITHMS) {
      for (const hex of await listOrEmpty(this.driver, `${dir}/${algorithm}`)) {
        if (!Digest.isValid(`${algorithm}:${hex}`)) continue;
        const digest = Digest.parse(`${algorithm}:${hex}`);
        const info = await statOrUndefined(this.driver, linkOf(digest));
        if (info && !info.isDir) out.push({ digest, lastUsed: info.modTime });
      }
    }
    return out;
  }

  /** Repositories under `path` that have one of the `markers` directories (_manifests, _uploads…). */
  async walkRepositories(path: string, prefix: string, ...markers: string[]): Promise<string[]> {
    const children = await listOrEmpty(this.driver, path);
    const found: string[] = [];
    if (prefix && markers.some((m) => children.includes(m))) found.push(prefix);
    for (const child of children) {
      if (RESERVED_DIRS.has(child) || child.startsWith(".")) continue;
      const childPath = `${path}/${child}`;
      const info = await statOrUndefined(this.driver, childPath);
      if (!info?.isDir) continue;
      found.push(
        ...(await this.walkRepositories(childPath, prefix ? `${prefix}/${child}` : child, ...markers)),
      );
    }
    return found;
  }

  private rememberSize(digest: Digest, size: number): void {
    if (this.sizes.size >= 100_000) this.sizes.clear();
    this.sizes.set(digest.toString(), size);
  }
}

function entryDigest(entry: string): Digest | undefined {
  const [alg, hex] = entry.split("-");
  const value = `${alg}:${hex}`;
  return alg && hex && Digest.isValid(value) ? Digest.parse(value) : undefined;
}

function subjectOf(bytes: Buffer): Digest | undefined {
  try {
    const digest = (JSON.parse(bytes.toString("utf8")) as { subject?: { digest?: unknown } }).subject?.digest;
    return typeof digest === "string" && Digest.isValid(digest) ? Digest.parse(digest) : undefined;
  } catch {
    return undefined;
  }
}

async function touchOr(driver: FilesystemDriver, path: string, missing: () => Error): Promise<void> {
  try {
    await driver.touch(path);
  } catch (err) {
    if (err instanceof PathNotFoundError) throw missing();
    throw err;
  }
}
