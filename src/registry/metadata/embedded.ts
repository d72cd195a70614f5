import type { Descriptor } from "../../oci/descriptor.js";
import { Digest } from "../../oci/digest.js";
import { deleteIfExists, exists, listOrEmpty, statOrUndefined } from "../../storage/absent.js";
import { PathNotFoundError } from "../../storage/driver.js";
import type { FilesystemDriver } from "../../storage/filesystem.js";
import { BlobUnknownError, ManifestBlobUnknownError, UploadBusyError } from "../domain-errors.js";
import { layout, RESERVED_DIRS } from "../layout.js";
import type { RegistryMetadata, Release, RevisionRecord, UploadSessionRef } from "./metadata.js";

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
    if (!(await exists(this.driver, layout.layerLink(repository, digest)))) return undefined;
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

  revisionExists(repository: string, digest: Digest): Promise<boolean> {
    return exists(this.driver, layout.revisionLink(repository, digest));
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
    let link: string;
    try {
      link = (await this.driver.getContent(layout.tagLink(repository, tag))).toString("utf8").trim();
    } catch (err) {
      if (err instanceof PathNotFoundError) return undefined;
      throw err;
    }
    return Digest.isValid(link) ? Digest.parse(link) : undefined;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    if ((await this.resolveTag(repository, tag)) === undefined) return false;
    await deleteIfExists(this.driver, layout.tagDir(repository, tag));
    return true;
  }

  async listTags(repository: string): Promise<string[] | undefined> {
    if (!(await exists(this.driver, layout.manifestsDir(repository)))) return undefined;
    const names = await listOrEmpty(this.driver, layout.tagsDir(repository));
    const live = await Promise.all(
      names.map(async (tag) => ((await this.resolveTag(repository, tag)) ? tag : undefined)),
    );
    return live.filter((tag): tag is string => tag !== undefined).sort();
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

  async close(): Promise<void> {}

  /** Repositories under `path` that have a `marker` directory (_manifests or _uploads). */
  async walkRepositories(path: string, prefix: string, marker: string): Promise<string[]> {
    const children = await listOrEmpty(this.driver, path);
    const found: string[] = [];
    if (prefix && children.includes(marker)) found.push(prefix);
    for (const child of children) {
      if (RESERVED_DIRS.has(child) || child.startsWith(".")) continue;
      const childPath = `${path}/${child}`;
      const info = await statOrUndefined(this.driver, childPath);
      if (!info?.isDir) continue;
      found.push(...(await this.walkRepositories(childPath, prefix ? `${prefix}/${child}` : child, marker)));
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
