import { Digest } from "../../../oci/digest.js";
import { deleteIfExists, listOrEmpty, statOrUndefined } from "../../../storage/absent.js";
import { PathNotFoundError } from "../../../storage/driver.js";
import type { FilesystemDriver } from "../../../storage/filesystem.js";
import { layout } from "../../layout.js";
import { repositoriesWith, walkIfExists } from "../../layout-walk.js";
import type { GcStore, HeldLock, StoredBlob, UsedEntry } from "../metadata.js";
import { acquireFileLock } from "./file-lock.js";
import type { EmbeddedRepositoryStore } from "./repositories.js";
import { ALGORITHMS, type BlobSizes, linksUnder, removeReferrerEntry } from "./tree.js";

/** Where a collection parks what it is about to delete (see removeIfUnused). */
const TRASH = "/gc-trash";

/**
 * Garbage collection over the filesystem layout. The lock is a file holding the collector's pid;
 * last use is a file's modification time, and a conditional delete renames the file aside before
 * looking at its time again (see removeIfUnused).
 */
export class EmbeddedGcStore implements GcStore {
  constructor(
    private readonly driver: FilesystemDriver,
    private readonly repositoryStore: EmbeddedRepositoryStore,
    private readonly sizes: BlobSizes,
  ) {}

  async lock(wait: boolean): Promise<HeldLock> {
    const lock = await acquireFileLock(`${this.driver.rootDirectory}/gc.lock`, wait);
    try {
      await this.recoverTrash();
    } catch (err) {
      await lock.release();
      throw err;
    }
    return lock;
  }

  repositories(): Promise<string[]> {
    return repositoriesWith(this.driver, ["_manifests", "_layers", "_uploads"]);
  }

  async tags(repository: string): Promise<Map<string, Digest>> {
    const out = new Map<string, Digest>();
    for (const tag of await listOrEmpty(this.driver, layout.tagsDir(repository))) {
      const target = await this.repositoryStore.resolveTag(repository, tag);
      if (target) out.set(tag, target);
    }
    return out;
  }

  async revisions(repository: string): Promise<UsedEntry[]> {
    const links = await linksUnder(this.driver, `${layout.manifestsDir(repository)}/revisions`);
    return links.map((l) => ({ digest: l.digest, lastUsed: l.modTime }));
  }

  async layerLinks(repository: string): Promise<UsedEntry[]> {
    const links = await linksUnder(this.driver, `${layout.repository(repository)}/_layers`);
    return links.map((l) => ({ digest: l.digest, lastUsed: l.modTime }));
  }

  async blobs(): Promise<StoredBlob[]> {
    const out: StoredBlob[] = [];
    // /blobs/<algorithm>/<hex prefix>/<hex>/data
    await walkIfExists(this.driver, "/blobs", (entry) => {
      const parts = entry.path.split("/").slice(2);
      if (entry.isDir) return parts.length > 3 || !ALGORITHMS.includes(parts[0]!) ? "skip" : undefined;
      const value = `${parts[0]}:${parts[2]}`;
      if (parts.length === 4 && parts[3] === "data" && Digest.isValid(value)) {
        out.push({ digest: Digest.parse(value), size: entry.size, lastUsed: entry.modTime });
      }
      return undefined;
    });
    return out;
  }

  async removeRevisionIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean> {
    if (!(await this.removeIfUnused(layout.revisionLink(repository, digest), cutoff))) return false;
    await deleteIfExists(this.driver, layout.revisionDir(repository, digest));
    await removeReferrerEntry(this.driver, repository, digest);
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
    this.sizes.delete(digest);
    return size;
  }

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
}
