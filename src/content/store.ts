import { createReadStream, type ReadStream } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "../liveness.js";
import { Digest, Digester } from "../oci/digest.js";
import { BlobNotFoundError, DigestMismatchError, SizeMismatchError } from "./errors.js";

/** Read size of `chunks`: 1 MiB, as for `reader`. */
const CHUNK_SIZE = 1024 * 1024;
/** Buffers per `chunks` reader: two in the consumer's hands at most, two spare. */
const CHUNK_RING = 4;

export interface Expected {
  digest: Digest;
  /** When known, a longer or shorter stream is refused. */
  size?: number;
}

/**
 * A content-addressed store of blobs on local disk (in containerd's manner): a writer ingests a
 * stream under the digest it is expected to have, hashing as it writes, and the blob appears by
 * an atomic rename only when size and digest check out. A partial ingest stays on disk and is
 * resumed by the next writer of the same digest; a lock file keeps two processes from writing
 * the same ingest at once.
 */
export class ContentStore {
  constructor(readonly root: string) {}

  blobPath(digest: Digest): string {
    return join(this.root, "blobs", digest.algorithm, digest.hex);
  }

  private ingestDir(digest: Digest): string {
    return join(this.root, "ingest", `${digest.algorithm}-${digest.hex}`);
  }

  /** Size of a committed blob, or undefined. */
  async size(digest: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  /** A stream of a committed blob, from byte `start`, read `chunkSize` bytes at a time. */
  async reader(digest: Digest, start = 0, chunkSize = 1024 * 1024): Promise<ReadStream> {
    if (!(await this.has(digest))) throw new BlobNotFoundError(digest.toString());
    return createReadStream(this.blobPath(digest), { start, highWaterMark: chunkSize });
  }

  /**
   * A committed blob as chunks read into a ring of CHUNK_RING buffers filled in turn, for a
   * consumer that hands each chunk to the kernel before it takes the next (undici's request
   * body writer: it writes a chunk to the socket and waits for 'drain' whenever the socket holds
   * more than its 16 KiB high-water mark, so once chunk n+1 is asked for, chunk n-1 has left the
   * process). A chunk stays untouched until CHUNK_RING - 1 more have been taken. Reusing the
   * buffers saves what fresh 1 MiB buffers cost per chunk: page faults and garbage collection,
   * about a fifth of a push's CPU.
   */
  async *chunks(digest: Digest, start = 0): AsyncGenerator<Buffer> {
    const handle = await open(this.blobPath(digest), "r").catch((err: NodeJS.ErrnoException) => {
      throw err.code === "ENOENT" ? new BlobNotFoundError(digest.toString()) : err;
    });
    try {
      const ring = Array.from({ length: CHUNK_RING }, () => Buffer.allocUnsafeSlow(CHUNK_SIZE));
      let position = start;
      for (let i = 0; ; i++) {
        const buffer = ring[i % CHUNK_RING]!;
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_SIZE, position);
        position += bytesRead;
        if (bytesRead === 0) return;
        yield bytesRead === CHUNK_SIZE ? buffer : buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  /** A small committed blob (a manifest or config) whole. */
  /** A whole committed blob (a manifest, a config), read in one call: no stream and its 1 MiB buffer for a few kilobytes. */
  async readAll(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new BlobNotFoundError(digest.toString());
      throw err;
    }
  }

  async delete(digest: Digest): Promise<boolean> {
    const existed = await this.has(digest);
    await rm(this.blobPath(digest), { force: true });
    return existed;
  }

  async list(): Promise<Digest[]> {
    const out: Digest[] = [];
    for (const algorithm of await readdir(join(this.root, "blobs")).catch(() => [] as string[])) {
      for (const hex of await readdir(join(this.root, "blobs", algorithm))) {
        const s = `${algorithm}:${hex}`;
        if (Digest.isValid(s)) out.push(Digest.parse(s));
      }
    }
    return out;
  }

  /**
   * Opens (or resumes) an ingest for a blob. Returns undefined when the blob is already
   * committed. When another process holds the ingest, waits for it to finish or go away.
   */
  async ingest(expected: Expected): Promise<Ingest | undefined> {
    for (;;) {
      if (await this.has(expected.digest)) return undefined;
      const dir = this.ingestDir(expected.digest);
      await mkdir(dir, { recursive: true });
      const lock = await tryLock(join(dir, "lock"));
      if (lock) {
        if (await this.has(expected.digest)) {
          await lock.release();
          return undefined;
        }
        return Ingest.open(this, expected, dir, lock);
      }
      await sleep(100);
    }
  }

  /** Writes a whole stream as a blob, verifying it. Returns the blob's size. */
  async write(expected: Expected, source: AsyncIterable<Uint8Array>): Promise<number> {
    const ingest = await this.ingest(expected);
    if (!ingest) return (await this.size(expected.digest))!;
    try {
      if (ingest.offset > 0) await ingest.truncate();
      for await (const chunk of source) await ingest.write(chunk);
      return await ingest.commit();
    } catch (err) {
      await ingest.close();
      throw err;
    }
  }

  /**
   * Writes a stream whose digest is not known in advance (a layer being compressed): hashed
   * while written to a private file, then renamed into place under the digest it turned out to have.
   */
  async writeNew(source: AsyncIterable<Uint8Array>): Promise<{ digest: Digest; size: number }> {
    const dir = join(this.root, "ingest");
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `new-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const digester = new Digester();
    let size = 0;
    const handle = await open(tmp, "wx");
    try {
      for await (const chunk of source) {
        digester.update(chunk);
        size += chunk.length;
        let off = 0;
        while (off < chunk.length) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      await handle.sync();
      await handle.close();
      const digest = digester.digest();
      if (await this.has(digest)) await rm(tmp, { force: true });
      else await this.commitData(tmp, digest);
      return { digest, size };
    } catch (err) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Moves a verified ingest's data into place (the atomic step). */
  async commitData(dataPath: string, digest: Digest): Promise<void> {
    await mkdir(join(this.root, "blobs", digest.algorithm), { recursive: true });
    await rename(dataPath, this.blobPath(digest));
  }
}

/** An in-progress write of one blob. */
export class Ingest {
  private constructor(
    private readonly store: ContentStore,
    readonly expected: Expected,
    private readonly dir: string,
    private readonly lock: Lock,
    private handle: FileHandle,
    private digester: Digester,
    /** Bytes already on disk: where a resumed download continues (an HTTP Range start). */
    public offset: number,
  ) {}

  static async open(store: ContentStore, expected: Expected, dir: string, lock: Lock): Promise<Ingest> {
    const dataPath = join(dir, "data");
    const handle = await open(dataPath, "a+");
    const digester = new Digester(expected.digest.algorithm);
    let offset = 0;
    // Resuming: hash what an earlier, interrupted writer left, so the final digest covers it all.
    const existing = (await handle.stat()).size;
    if (existing > 0) {
      for await (const chunk of createReadStream(dataPath, {
        end: existing - 1,
        highWaterMark: 1024 * 1024,
      })) {
        digester.update(chunk as Buffer);
        offset += (chunk as Buffer).length;
      }
    }
    return new Ingest(store, expected, dir, lock, handle, digester, offset);
  }

  /** What is already on disk (the part a resumed write continues), for a consumer that needs the whole blob. */
  async *written(): AsyncGenerator<Buffer> {
    if (this.offset === 0) return;
    for await (const chunk of createReadStream(join(this.dir, "data"), {
      end: this.offset - 1,
      highWaterMark: 256 * 1024,
    })) {
      yield chunk as Buffer;
    }
  }

  /** Throws away what a previous writer left (when the source cannot resume mid-stream). */
  async truncate(): Promise<void> {
    await this.handle.truncate(0);
    this.digester = new Digester(this.expected.digest.algorithm);
    this.offset = 0;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.expected.size !== undefined && this.offset + chunk.length > this.expected.size) {
      throw new SizeMismatchError(
        this.expected.digest.toString(),
        this.expected.size,
        this.offset + chunk.length,
      );
    }
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, written, chunk.length - written);
      written += bytesWritten;
    }
    this.digester.update(chunk);
    this.offset += chunk.length;
  }

  /** Verifies size and digest, then renames the data into place. On a mismatch the partial data is discarded. */
  async commit(): Promise<number> {
    const size = this.offset;
    try {
      if (this.expected.size !== undefined && size !== this.expected.size) {
        throw new SizeMismatchError(this.expected.digest.toString(), this.expected.size, size);
      }
      const actual = this.digester.digest();
      if (!actual.equals(this.expected.digest)) {
        throw new DigestMismatchError(this.expected.digest.toString(), actual.toString());
      }
      await this.handle.sync();
      await this.handle.close();
      await this.store.commitData(join(this.dir, "data"), this.expected.digest);
      await rm(this.dir, { recursive: true, force: true });
    } catch (err) {
      await this.handle.close().catch(() => {});
      await rm(this.dir, { recursive: true, force: true });
      throw err;
    }
    return size;
  }

  /** Stops writing but keeps the partial data for a later resume. */
  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
    await this.lock.release();
  }

  /** Stops writing and discards the partial data. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}

interface Lock {
  release(): Promise<void>;
}

/**
 * An exclusive lock file holding the owner's pid. A lock whose owner is dead (a killed pull) is
 * taken over, so an interrupted ingest can be resumed.
 */
async function tryLock(path: string): Promise<Lock | undefined> {
  try {
    const handle = await open(path, "wx");
    await handle.writeFile(String(process.pid));
    await handle.close();
    return { release: () => rm(path, { force: true }) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const owner = Number(await readFile(path, "utf8").catch(() => "0")) || 0;
  if (owner > 0 && owner !== process.pid && isAlive(owner, undefined)) return undefined;
  if (owner === process.pid) return undefined;
  // Stale: take it over by replacing the file atomically, then check we won.
  const tmp = `${path}.${process.pid}`;
  const handle = await open(tmp, "w");
  await handle.writeFile(String(process.pid));
  await handle.close();
  await rename(tmp, path);
  await sleep(10);
  const now = Number(await readFile(path, "utf8").catch(() => "0"));
  if (now !== process.pid) return undefined;
  return { release: () => rm(path, { force: true }) };
}
