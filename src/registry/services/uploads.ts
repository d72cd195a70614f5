import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { type Digest, Digester } from "../../oci/digest.js";
import { deleteIfExists, statOrUndefined } from "../../storage/absent.js";
import type { FileWriter, StorageDriver } from "../../storage/driver.js";
import {
  BackendUnavailableError,
  BodyIncompleteError,
  DigestInvalidError,
  UploadRangeError,
  UploadSizeError,
  UploadUnknownError,
} from "../domain-errors.js";
import { layout } from "../layout.js";
import { repositoriesWith, walkIfExists } from "../layout-walk.js";
import type { UploadSessions } from "../metadata/metadata.js";
import type { BlobService } from "./blobs.js";

export interface UploadStatus {
  uuid: string;
  size: number;
}

/** A Content-Range of a chunk: "start-end", inclusive. */
export interface ChunkRange {
  start: number;
  end: number;
}

/** sha256 of an upload's first `size` bytes, as this process hashed them while they arrived. */
interface LocalHash {
  size: number;
  digester: Digester;
}

const MAX_IN_FLIGHT = 8 * 1024 * 1024;
const MAX_LOCAL_HASHES = 4096;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Blob upload sessions. Data streams to a private path under the repository's _uploads, hashed as
 * it arrives, and becomes a blob only after the digest the client names is verified, by an atomic
 * move. The session (and the right to write to it) lives in the UploadSessions and the bytes in the
 * driver, so a session survives a restart and continues on any replica.
 *
 * node's hashes cannot be saved, so the running sha256 stays in the process that wrote the bytes;
 * a session whose bytes did not all pass through this process (a restart, a chunk that landed on
 * another replica) is hashed again from storage when it finishes.
 */
export class UploadService {
  private readonly hashes = new Map<string, LocalHash>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly sessions: UploadSessions,
    private readonly blobs: BlobService,
  ) {}

  async start(repository: string): Promise<UploadStatus> {
    const uuid = randomUUID();
    // No data object yet: the first chunk creates it (an upload with none has size 0).
    await this.sessions.create(repository, uuid);
    this.remember(repository, uuid, { size: 0, digester: new Digester() });
    return { uuid, size: 0 };
  }

  async status(repository: string, uuid: string): Promise<UploadStatus> {
    await this.check(repository, uuid);
    return { uuid, size: await this.storedSize(repository, uuid) };
  }

  /** Appends a chunk. With a range, its start must be the current size and its length must match. */
  async append(
    repository: string,
    uuid: string,
    body: Readable,
    range: ChunkRange | undefined,
    contentLength: number | undefined,
  ): Promise<UploadStatus> {
    return this.exclusive(repository, uuid, async (held) => {
      const writer = await this.driver.writer(layout.uploadData(repository, uuid), true);
      try {
        if (range) {
          if (range.start !== writer.size || range.end < range.start) {
            throw new UploadRangeError(repository, uuid, writer.size, `${range.start}-${range.end}`);
          }
          const length = range.end - range.start + 1;
          if (contentLength !== undefined && contentLength !== length) {
            throw new UploadSizeError("Content-Length does not match Content-Range");
          }
        }
        await this.write(repository, uuid, writer, body);
        held();
      } finally {
        await writer.close();
      }
      return { uuid, size: writer.size };
    });
  }

  /**
   * Finishes an upload: appends an optional last chunk, verifies the digest and moves the data
   * into the blob store. On a digest mismatch the upload is discarded, so nothing is stored.
   */
  async finish(
    repository: string,
    uuid: string,
    digest: Digest,
    body: Readable | undefined,
    range: ChunkRange | undefined,
    contentLength: number | undefined,
  ): Promise<number> {
    return this.exclusive(repository, uuid, async (held) => {
      const path = layout.uploadData(repository, uuid);
      const writer = await this.driver.writer(path, true);
      let size: number;
      try {
        if (body) {
          if (range && range.start !== writer.size) {
            throw new UploadRangeError(repository, uuid, writer.size, `${range.start}-${range.end}`);
          }
          const before = writer.size;
          await this.write(repository, uuid, writer, body);
          if (contentLength !== undefined && writer.size - before !== contentLength) {
            await writer.close();
            await this.discard(repository, uuid);
            throw new UploadSizeError("body shorter than Content-Length");
          }
        }
        size = writer.size;
        held();
        await writer.commit();
      } finally {
        await writer.close();
      }
      const local = this.hashes.get(key(repository, uuid));
      const actual =
        digest.algorithm === "sha256" && local?.size === size
          ? local.digester.digest()
          : await this.rehash(path, digest.algorithm);
      if (!actual.equals(digest)) {
        await this.discard(repository, uuid);
        throw new DigestInvalidError(
          "provided digest did not match uploaded content",
          digest.toString(),
          actual.toString(),
        );
      }
      held();
      await this.blobs.commitUpload(repository, path, digest, size);
      // The data was moved: the session is over once forgotten; what may be left in storage (an
      // empty directory, state of an object store) is swept without keeping the client waiting.
      this.hashes.delete(key(repository, uuid));
      await this.sessions.remove(repository, uuid);
      void deleteIfExists(this.driver, layout.uploadDir(repository, uuid)).catch(() => {});
      return size;
    });
  }

  async cancel(repository: string, uuid: string): Promise<void> {
    await this.exclusive(repository, uuid, () => this.discard(repository, uuid));
  }

  /** Deletes upload sessions started more than maxAgeMs ago. */
  async purge(maxAgeMs: number): Promise<number> {
    let purged = 0;
    for (const { repository, uuid } of await this.sessions.startedBefore(new Date(Date.now() - maxAgeMs))) {
      try {
        await this.exclusive(repository, uuid, () => this.discard(repository, uuid));
        purged++;
      } catch {
        // Being written to right now, or gone already: not expired after all.
      }
    }
    return purged;
  }

  /**
   * Removes upload folders that hold no session, once nothing in them changed since `olderThan`:
   * what a process killed while starting a session left (a folder with nothing, or only a
   * temporary file until the driver's sweep took it). Returns how many.
   */
  async sweepOrphans(olderThan: Date): Promise<number> {
    let removed = 0;
    for (const repository of await repositoriesWith(this.driver, ["_uploads"])) {
      const folders: { path: string; uuid: string; modTime: Date }[] = [];
      await walkIfExists(this.driver, layout.uploadsDir(repository), (entry) => {
        const uuid = entry.path.slice(entry.path.lastIndexOf("/") + 1);
        if (entry.isDir && UUID_RE.test(uuid))
          folders.push({ path: entry.path, uuid, modTime: entry.modTime });
        return "skip";
      });
      for (const folder of folders) {
        if (folder.modTime >= olderThan || (await this.sessions.exists(repository, folder.uuid))) continue;
        let recent = false;
        await walkIfExists(this.driver, folder.path, (entry) => {
          if (entry.modTime >= olderThan) recent = true;
        });
        if (recent) continue;
        await deleteIfExists(this.driver, folder.path);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Streams a request body to the upload's data, hashing as it goes. Writes are not awaited one
   * by one (the driver batches them) but at most MAX_IN_FLIGHT bytes wait, so memory stays flat.
   */
  private async write(repository: string, uuid: string, writer: FileWriter, body: Readable): Promise<void> {
    const k = key(repository, uuid);
    let local = this.hashes.get(k);
    if (local?.size !== writer.size)
      local = writer.size === 0 ? { size: 0, digester: new Digester() } : undefined;
    // Until it is known good again, no hash state: a failure half-way leaves the hash ahead of the data.
    this.hashes.delete(k);
    let inFlight: Promise<void>[] = [];
    let inFlightBytes = 0;
    let failure: unknown;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        local?.digester.update(bytes);
        const written = writer.write(bytes);
        written.catch((err) => {
          failure ??= err;
        });
        inFlight.push(written);
        inFlightBytes += bytes.length;
        if (inFlightBytes >= MAX_IN_FLIGHT) {
          await Promise.all(inFlight);
          inFlight = [];
          inFlightBytes = 0;
        }
      }
      await Promise.all(inFlight);
    } catch (err) {
      await Promise.allSettled(inFlight);
      if (failure !== undefined) throw failure;
      throw isBodyCut(err) ? new BodyIncompleteError() : err;
    }
    if (local) {
      local.size = writer.size;
      this.remember(repository, uuid, local);
    }
  }

  private async discard(repository: string, uuid: string): Promise<void> {
    this.hashes.delete(key(repository, uuid));
    await deleteIfExists(this.driver, layout.uploadDir(repository, uuid));
    await this.sessions.remove(repository, uuid);
  }

  private async rehash(path: string, algorithm: Digest["algorithm"]): Promise<Digest> {
    const digester = new Digester(algorithm);
    for await (const chunk of await this.driver.reader(path)) digester.update(chunk as Buffer);
    return digester.digest();
  }

  private async storedSize(repository: string, uuid: string): Promise<number> {
    return (await statOrUndefined(this.driver, layout.uploadData(repository, uuid)))?.size ?? 0;
  }

  private async check(repository: string, uuid: string): Promise<void> {
    if (!UUID_RE.test(uuid) || !(await this.sessions.exists(repository, uuid))) {
      throw new UploadUnknownError(uuid);
    }
  }

  /**
   * Runs `fn` holding the session's lock. `fn` calls `held()` before each step that must not
   * happen without the lock (a lock held on a database connection is lost when the connection
   * dies, and another replica may take the session over): it throws BackendUnavailableError then.
   */
  private async exclusive<T>(
    repository: string,
    uuid: string,
    fn: (held: () => void) => Promise<T>,
  ): Promise<T> {
    await this.check(repository, uuid);
    const lock = await this.sessions.lock(repository, uuid);
    const held = () => {
      if (lock.lost.aborted) {
        throw new BackendUnavailableError(
          "metadata",
          `the lock of upload ${uuid} was lost with its connection`,
        );
      }
    };
    try {
      // Checked again under the lock: the holder before us may have finished or cancelled it.
      await this.check(repository, uuid);
      return await fn(held);
    } finally {
      await lock.release();
    }
  }

  private remember(repository: string, uuid: string, hash: LocalHash): void {
    if (this.hashes.size >= MAX_LOCAL_HASHES) {
      const oldest = this.hashes.keys().next().value;
      if (oldest !== undefined) this.hashes.delete(oldest);
    }
    this.hashes.set(key(repository, uuid), hash);
  }
}

function isBodyCut(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return (
    code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (err as Error).message === "aborted"
  );
}

function key(repository: string, uuid: string): string {
  return `${repository}\0${uuid}`;
}
