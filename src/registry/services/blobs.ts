import type { Readable } from "node:stream";
import type { Digest } from "../../oci/digest.js";
import { PathNotFoundError, type StorageDriver } from "../../storage/driver.js";
import { BlobUnknownError } from "../domain-errors.js";
import { layout } from "../layout.js";
import type { RepositoryStore } from "../metadata/metadata.js";

/**
 * Blobs: stored once, globally, by digest; readable through a repository only if linked there
 * (pushed or mounted). Bytes come from the driver, links and sizes from the repository store.
 */
export class BlobService {
  constructor(
    private readonly driver: StorageDriver,
    private readonly repositories: RepositoryStore,
  ) {}

  /** Size of a blob readable through the repository, or undefined. */
  sizeIn(repository: string, digest: Digest): Promise<number | undefined> {
    return this.repositories.repositoryBlobSize(repository, digest);
  }

  async open(digest: Digest, start?: number, end?: number): Promise<Readable> {
    try {
      return await this.driver.reader(layout.blobData(digest), start, end);
    } catch (err) {
      if (err instanceof PathNotFoundError) throw new BlobUnknownError(digest.toString());
      throw err;
    }
  }

  link(repository: string, digest: Digest): Promise<void> {
    return this.repositories.linkBlob(repository, digest);
  }

  /** Removes a blob from a repository; the global bytes stay until garbage collection. */
  async unlink(repository: string, digest: Digest): Promise<void> {
    if (!(await this.repositories.unlinkBlob(repository, digest)))
      throw new BlobUnknownError(digest.toString());
  }

  /**
   * Moves verified upload data into the global store and links it into the repository. The move
   * is atomic, so a blob is wholly visible or absent.
   */
  async commitUpload(repository: string, dataPath: string, digest: Digest, size: number): Promise<void> {
    await this.repositories.commitBlob(digest, size, () =>
      this.driver.move(dataPath, layout.blobData(digest)),
    );
    await this.repositories.linkBlob(repository, digest);
  }

  /** Stores small content (a manifest's bytes) as a blob. */
  putSmall(digest: Digest, bytes: Uint8Array): Promise<void> {
    return this.repositories.commitBlob(digest, bytes.length, () =>
      this.driver.putContent(layout.blobData(digest), bytes),
    );
  }

  async readSmall(digest: Digest): Promise<Buffer | undefined> {
    try {
      return await this.driver.getContent(layout.blobData(digest));
    } catch (err) {
      if (err instanceof PathNotFoundError) return undefined;
      throw err;
    }
  }
}
