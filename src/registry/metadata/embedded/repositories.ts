import type { Descriptor } from "../../../oci/descriptor.js";
import { Digest } from "../../../oci/digest.js";
import { deleteIfExists, exists, listOrEmpty, statOrUndefined } from "../../../storage/absent.js";
import { PathNotFoundError } from "../../../storage/driver.js";
import type { FilesystemDriver } from "../../../storage/filesystem.js";
import { BlobUnknownError, ManifestBlobUnknownError } from "../../domain-errors.js";
import { layout } from "../../layout.js";
import { repositoriesWith } from "../../layout-walk.js";
import type { RepositoryStore, RevisionRecord } from "../metadata.js";
import { type BlobSizes, entryDigest, removeReferrerEntry, touchOr } from "./tree.js";

/**
 * Repositories as distribution lays them out in the filesystem driver's tree: link files for
 * tags, revisions and layers, referrer entries under their subject. Nothing is cached but blob
 * sizes: every call reads the files, so a `berth registry gc` process and the server see each
 * other's writes. Last use is a file's modification time: using a blob or a link touches it, and
 * touching fails when garbage collection got there first (see EmbeddedGcStore).
 */
export class EmbeddedRepositoryStore implements RepositoryStore {
  constructor(
    private readonly driver: FilesystemDriver,
    private readonly sizes: BlobSizes,
  ) {}

  async blobSize(digest: Digest): Promise<number | undefined> {
    const info = await statOrUndefined(this.driver, layout.blobData(digest));
    if (!info || info.isDir) return undefined;
    this.sizes.set(digest, info.size);
    return info.size;
  }

  async commitBlob(digest: Digest, size: number, place: () => Promise<void>): Promise<void> {
    // Placing renames fresh bytes over the path, so the blob's modification time (its last use) is now.
    await place();
    this.sizes.set(digest, size);
  }

  async repositoryBlobSize(repository: string, digest: Digest): Promise<number | undefined> {
    if (!this.driver.isFileSync(layout.layerLink(repository, digest))) return undefined;
    return this.sizes.get(digest) ?? (await this.blobSize(digest));
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
    await removeReferrerEntry(this.driver, repository, digest);
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

  listRepositories(): Promise<string[]> {
    return repositoriesWith(this.driver, ["_manifests"]);
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
}
