import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { type Digest, Digester } from "../oci/digest.js";
import { PathNotFoundError, type StorageDriver } from "../storage/driver.js";
import { RegistryError } from "./errors.js";
import { layout, RESERVED_DIRS } from "./layout.js";
import { urls } from "./routes.js";
import { deleteIfExists, listOrEmpty, type RegistryStore } from "./store.js";

interface UploadSession {
  readonly name: string;
  readonly uuid: string;
  size: number;
  /** sha256 of the bytes received so far; node's hashes cannot be serialised, so after a restart it is rebuilt by reading the data back. */
  digester: Digester;
  busy: boolean;
}

export interface UploadStatus {
  uuid: string;
  size: number;
}

/** A Content-Range of a chunk: "start-end", inclusive. */
export interface ChunkRange {
  start: number;
  end: number;
}

const MAX_IN_FLIGHT = 8 * 1024 * 1024;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Blob upload sessions. Data streams to a private path under the repository's _uploads and is
 * hashed as it arrives; it becomes a blob only after the digest the client names is verified,
 * by an atomic move. Sessions live in storage, so they survive a restart.
 */
export class UploadManager {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly store: RegistryStore,
  ) {}

  async start(name: string): Promise<UploadStatus> {
    const uuid = randomUUID();
    await this.driver.putContent(layout.uploadStartedAt(name, uuid), Buffer.from(new Date().toISOString()));
    const writer = await this.driver.writer(layout.uploadData(name, uuid), false);
    await writer.close();
    this.sessions.set(key(name, uuid), { name, uuid, size: 0, digester: new Digester(), busy: false });
    return { uuid, size: 0 };
  }

  async status(name: string, uuid: string): Promise<UploadStatus> {
    const session = await this.session(name, uuid);
    return { uuid, size: session.size };
  }

  /** Appends a chunk. With a range, its start must be the current size (else 416) and its length must match. */
  async append(
    name: string,
    uuid: string,
    body: Readable,
    range: ChunkRange | undefined,
    contentLength: number | undefined,
  ): Promise<UploadStatus> {
    return this.exclusive(name, uuid, async (session) => {
      if (range) {
        if (range.start !== session.size || range.end < range.start) {
          throw new RegistryError("RANGE_INVALID", "content range does not continue the upload", {
            size: session.size,
            range: `${range.start}-${range.end}`,
          }).withHeaders(uploadHeaders(name, uuid, session.size));
        }
        const length = range.end - range.start + 1;
        if (contentLength !== undefined && contentLength !== length) {
          throw new RegistryError("SIZE_INVALID", "Content-Length does not match Content-Range", {
            contentLength,
            range: `${range.start}-${range.end}`,
          });
        }
      }
      await this.write(session, body);
      return { uuid, size: session.size };
    });
  }

  /**
   * Finishes an upload: appends an optional last chunk, verifies the digest and moves the data
   * into the blob store. On a digest mismatch the upload is discarded, so nothing is stored.
   */
  async finish(
    name: string,
    uuid: string,
    digest: Digest,
    body: Readable | undefined,
    range: ChunkRange | undefined,
    contentLength: number | undefined,
  ): Promise<number> {
    return this.exclusive(name, uuid, async (session) => {
      if (body) {
        if (range && range.start !== session.size) {
          throw new RegistryError("RANGE_INVALID", "content range does not continue the upload", {
            size: session.size,
          }).withHeaders(uploadHeaders(name, uuid, session.size));
        }
        const before = session.size;
        await this.write(session, body);
        if (contentLength !== undefined && session.size - before !== contentLength) {
          await this.discard(session);
          throw new RegistryError("SIZE_INVALID", "body shorter than Content-Length");
        }
      }
      const actual =
        digest.algorithm === "sha256"
          ? session.digester.digest()
          : await this.rehash(session, digest.algorithm);
      if (!actual.equals(digest)) {
        await this.discard(session);
        throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content", {
          expected: digest.toString(),
          actual: actual.toString(),
        });
      }
      await this.store.commitBlob(layout.uploadData(name, uuid), digest, session.size);
      await this.store.linkBlob(name, digest);
      await this.discard(session);
      return session.size;
    });
  }

  async cancel(name: string, uuid: string): Promise<void> {
    await this.exclusive(name, uuid, (session) => this.discard(session));
  }

  /** Deletes upload sessions started more than maxAgeMs ago, in every repository. */
  async purge(maxAgeMs: number, repositories: string[]): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    let purged = 0;
    for (const name of repositories) {
      for (const uuid of await listOrEmpty(this.driver, layout.uploadsDir(name))) {
        const live = this.sessions.get(key(name, uuid));
        if (live?.busy) continue;
        let started: number;
        try {
          started = Date.parse((await this.driver.getContent(layout.uploadStartedAt(name, uuid))).toString());
        } catch (err) {
          if (!(err instanceof PathNotFoundError)) throw err;
          started = Number.NaN;
        }
        if (Number.isNaN(started)) {
          started =
            (
              await this.driver.stat(layout.uploadDir(name, uuid)).catch(() => undefined)
            )?.modTime.getTime() ?? 0;
        }
        if (started > cutoff) continue;
        this.sessions.delete(key(name, uuid));
        await deleteIfExists(this.driver, layout.uploadDir(name, uuid));
        purged++;
      }
    }
    return purged;
  }

  /** Every repository that has an _uploads directory, found by walking storage. */
  async repositoriesWithUploads(path = layout.repositories(), prefix = ""): Promise<string[]> {
    const children = await listOrEmpty(this.driver, path);
    const out: string[] = [];
    if (prefix && children.includes("_uploads")) out.push(prefix);
    for (const child of children) {
      if (RESERVED_DIRS.has(child) || child.startsWith(".")) continue;
      out.push(
        ...(await this.repositoriesWithUploads(`${path}/${child}`, prefix ? `${prefix}/${child}` : child)),
      );
    }
    return out;
  }

  /**
   * Streams a request body to the upload's data, hashing as it goes. Writes are not awaited one
   * by one (the driver batches them) but at most MAX_IN_FLIGHT bytes wait, so memory stays flat.
   */
  private async write(session: UploadSession, body: Readable): Promise<void> {
    const writer = await this.driver.writer(layout.uploadData(session.name, session.uuid), true);
    let inFlight: Promise<void>[] = [];
    let inFlightBytes = 0;
    let failure: unknown;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        session.digester.update(bytes);
        session.size += bytes.length;
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
      // The hash and size may now be ahead of the file: drop the session so it is rebuilt from storage.
      await Promise.allSettled(inFlight);
      this.sessions.delete(key(session.name, session.uuid));
      throw failure ?? err;
    } finally {
      await writer.close();
    }
  }

  private async discard(session: UploadSession): Promise<void> {
    this.sessions.delete(key(session.name, session.uuid));
    await deleteIfExists(this.driver, layout.uploadDir(session.name, session.uuid));
  }

  private async rehash(session: UploadSession, algorithm: Digest["algorithm"]): Promise<Digest> {
    const digester = new Digester(algorithm);
    if (session.size > 0) {
      for await (const chunk of await this.driver.reader(layout.uploadData(session.name, session.uuid))) {
        digester.update(chunk as Buffer);
      }
    }
    return digester.digest();
  }

  private async session(name: string, uuid: string): Promise<UploadSession> {
    const existing = this.sessions.get(key(name, uuid));
    if (existing) return existing;
    if (!UUID_RE.test(uuid)) throw unknownUpload(uuid);
    let size: number;
    try {
      size = (await this.driver.stat(layout.uploadData(name, uuid))).size;
    } catch (err) {
      if (err instanceof PathNotFoundError) throw unknownUpload(uuid);
      throw err;
    }
    const session: UploadSession = { name, uuid, size: 0, digester: new Digester(), busy: false };
    if (size > 0) {
      // A session from before a restart: rebuild the hash state from the bytes already stored.
      for await (const chunk of await this.driver.reader(layout.uploadData(name, uuid), 0, size - 1)) {
        session.digester.update(chunk as Buffer);
        session.size += (chunk as Buffer).length;
      }
    }
    const raced = this.sessions.get(key(name, uuid));
    if (raced) return raced;
    this.sessions.set(key(name, uuid), session);
    return session;
  }

  private async exclusive<T>(
    name: string,
    uuid: string,
    fn: (session: UploadSession) => Promise<T>,
  ): Promise<T> {
    const session = await this.session(name, uuid);
    if (session.busy) {
      throw new RegistryError("BLOB_UPLOAD_INVALID", "another request is writing to this upload", { uuid });
    }
    session.busy = true;
    try {
      return await fn(session);
    } finally {
      session.busy = false;
    }
  }
}

export function uploadHeaders(name: string, uuid: string, size: number): Record<string, string> {
  return {
    Location: urls.upload(name, uuid),
    Range: `0-${size > 0 ? size - 1 : 0}`,
    "Docker-Upload-UUID": uuid,
  };
}

function unknownUpload(uuid: string): RegistryError {
  return new RegistryError("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", { uuid });
}

function key(name: string, uuid: string): string {
  return `${name}\0${uuid}`;
}
