import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import {
  lstat,
  mkdir,
  open,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  utimes,
} from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import {
  byName,
  type FileInfo,
  type FileWriter,
  InvalidPathError,
  PathNotFoundError,
  type StorageDriver,
  type WalkFn,
} from "./driver.js";
import { validatePath } from "./paths.js";

/**
 * putContent writes beside its target under this prefix and renames over it. Driver paths may not
 * use the prefix, so a temp file left by a crash can never be mistaken for an object.
 */
const TEMP_PREFIX = ".tmp-";
/** Exactly the names putContent gives its temporary files. */
const TEMP_NAME = /^\.tmp-[0-9a-f]{16}$/;

/** Blob GETs stream through here; 1 MiB reads cut syscalls and event-loop turns 16-fold. */
const READ_HIGH_WATER_MARK = 1024 * 1024;

/**
 * A StorageDriver over a local directory: driver path "/a/b" is file `<root>/a/b`.
 *
 * Containment is lexical: paths are validated, joined under the root and checked to stay inside
 * it. Symlinks inside the root are followed like anything else: the root is trusted, and whoever
 * can plant a link there can already write the registry's data directly.
 *
 * Deleting an object leaves its (possibly empty) parent directories behind; they are harmless and
 * a later put reuses them.
 */
export class FilesystemDriver implements StorageDriver {
  readonly name = "filesystem";
  readonly rootDirectory: string;
  readonly #rootPrefix: string;

  constructor(rootDirectory: string) {
    this.rootDirectory = path.resolve(rootDirectory);
    this.#rootPrefix = this.rootDirectory.endsWith(path.sep)
      ? this.rootDirectory
      : this.rootDirectory + path.sep;
  }

  async getContent(p: string): Promise<Buffer> {
    const full = this.#resolve(p);
    try {
      return await readFile(full);
    } catch (err) {
      throw translate(err, p, "EISDIR");
    }
  }

  async putContent(p: string, content: Uint8Array): Promise<void> {
    const full = this.#resolve(p);
    const dir = path.dirname(full);
    const temp = path.join(dir, TEMP_PREFIX + randomBytes(8).toString("hex"));
    let renamed = false;
    try {
      const handle = await inDirectory(dir, () => open(temp, "wx"));
      try {
        await handle.writeFile(content);
        // Without the sync a crash after the rename could leave the new name pointing at no data.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, full);
      renamed = true;
    } finally {
      if (!renamed) await rm(temp, { force: true });
    }
  }

  async reader(p: string, offset = 0, end?: number): Promise<Readable> {
    const full = this.#resolve(p);
    checkRange(offset, end);
    let handle: FileHandle;
    try {
      handle = await open(full, "r");
    } catch (err) {
      throw translate(err, p);
    }
    try {
      // Opening a directory succeeds on Linux and only the first read fails; answer now instead.
      if ((await handle.stat()).isDirectory()) throw new PathNotFoundError(p);
    } catch (err) {
      await handle.close();
      throw err;
    }
    if (end === offset - 1) {
      await handle.close();
      return Readable.from([]);
    }
    return handle.createReadStream({
      start: offset,
      ...(end === undefined ? {} : { end }),
      highWaterMark: READ_HIGH_WATER_MARK,
    });
  }

  async writer(p: string, append: boolean): Promise<FileWriter> {
    const full = this.#resolve(p);
    // "a" creates a missing file, so appending to nothing starts an empty object.
    const handle = await inDirectory(path.dirname(full), () => open(full, append ? "a" : "w"));
    try {
      const size = append ? (await handle.stat()).size : 0;
      return new FilesystemWriter(full, handle, size);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(p: string): Promise<FileInfo> {
    const full = this.#resolve(p);
    try {
      const st = await stat(full);
      const isDir = st.isDirectory();
      // A directory's st_size is a filesystem detail; S3 has no such number. Report 0 everywhere.
      return { path: p, size: isDir ? 0 : st.size, modTime: st.mtime, isDir };
    } catch (err) {
      throw translate(err, p);
    }
  }

  async list(p: string): Promise<string[]> {
    const full = this.#resolve(p, true);
    try {
      const names = await readdir(full);
      return names.filter((name) => !name.startsWith(TEMP_PREFIX));
    } catch (err) {
      // The root exists in every driver even before the first put created its directory.
      if (p === "/" && isErrno(err, "ENOENT")) return [];
      throw translate(err, p);
    }
  }

  async move(source: string, dest: string): Promise<void> {
    const from = this.#resolve(source);
    const to = this.#resolve(dest);
    try {
      // Checked first so a missing source does not leave dest's new parent directories behind.
      await lstat(from);
    } catch (err) {
      throw translate(err, source);
    }
    try {
      await inDirectory(path.dirname(to), () => rename(from, to));
    } catch (err) {
      throw translate(err, source);
    }
  }

  /**
   * The content of a small object read synchronously, or undefined when it is missing. For the
   * registry's link files (tens of bytes, in the page cache): a synchronous read takes a few
   * microseconds where an asynchronous one makes four thread-pool round trips, and reading them
   * on every request is what lets several processes share a root without caches.
   */
  readSmallSync(p: string): Buffer | undefined {
    const full = this.#resolve(p);
    try {
      return readFileSync(full);
    } catch (err) {
      if (translate(err, p, "EISDIR") instanceof PathNotFoundError) return undefined;
      throw err;
    }
  }

  /** Whether a file (not a directory) exists, checked synchronously; see readSmallSync. */
  isFileSync(p: string): boolean {
    const full = this.#resolve(p);
    return statSync(full, { throwIfNoEntry: false })?.isFile() ?? false;
  }

  /** Names in a directory, read synchronously (undefined when it is missing); see readSmallSync. */
  listSync(p: string): string[] | undefined {
    const full = this.#resolve(p);
    try {
      return readdirSync(full).filter((name) => !name.startsWith(TEMP_PREFIX));
    } catch (err) {
      if (translate(err, p) instanceof PathNotFoundError) return undefined;
      throw err;
    }
  }

  /** Whether a directory exists, checked synchronously; see readSmallSync. */
  isDirectorySync(p: string): boolean {
    const full = this.#resolve(p);
    return statSync(full, { throwIfNoEntry: false })?.isDirectory() ?? false;
  }

  /**
   * Sets an object's modification time to now: the filesystem setup's record of a blob's or a
   * link's last use, which garbage collection compares with its grace period. Throws
   * PathNotFoundError, so touching is also an atomic "still there?" check.
   */
  async touch(p: string): Promise<void> {
    const full = this.#resolve(p);
    const now = new Date();
    try {
      await utimes(full, now, now);
    } catch (err) {
      throw translate(err, p);
    }
  }

  async delete(p: string): Promise<void> {
    const full = this.#resolve(p);
    try {
      await rm(full, { recursive: true });
    } catch (err) {
      throw translate(err, p);
    }
  }

  async walk(p: string, visit: WalkFn): Promise<void> {
    const full = this.#resolve(p, true);
    let names: string[];
    try {
      names = await readdir(full);
    } catch (err) {
      if (p === "/" && isErrno(err, "ENOENT")) return;
      throw translate(err, p);
    }
    await this.#walkNames(p === "/" ? "" : p, full, names, visit);
  }

  async #walkNames(p: string, full: string, names: string[], visit: WalkFn): Promise<void> {
    for (const name of names.filter((n) => !n.startsWith(TEMP_PREFIX)).sort(byName)) {
      const childPath = `${p}/${name}`;
      const childFull = path.join(full, name);
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(childFull);
      } catch (err) {
        if (isErrno(err, "ENOENT", "ENOTDIR")) continue;
        throw err;
      }
      const isDir = st.isDirectory();
      const answer = await visit({ path: childPath, size: isDir ? 0 : st.size, modTime: st.mtime, isDir });
      if (!isDir || answer === "skip") continue;
      let children: string[];
      try {
        children = await readdir(childFull);
      } catch (err) {
        if (isErrno(err, "ENOENT", "ENOTDIR")) continue;
        throw err;
      }
      await this.#walkNames(childPath, childFull, children, visit);
    }
  }

  /**
   * Removes temporary files of putContent calls that never finished (the process was killed
   * between writing and renaming), and the directory each was in when nothing else is left there:
   * an upload folder that only ever got a half-written `startedat`, say. The root is never removed.
   */
  async sweep(olderThan: Date): Promise<number> {
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      let handle: Awaited<ReturnType<typeof opendir>>;
      try {
        handle = await opendir(dir);
      } catch (err) {
        if (isErrno(err, "ENOENT", "ENOTDIR")) return;
        throw err;
      }
      const subdirs: string[] = [];
      let found = false;
      for await (const entry of handle) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          subdirs.push(full);
        } else if (entry.isFile() && TEMP_NAME.test(entry.name)) {
          const st = await lstat(full).catch(() => undefined);
          if (!st || st.mtime >= olderThan) continue;
          await unlink(full).catch((err) => {
            if (!isErrno(err, "ENOENT")) throw err;
          });
          removed++;
          found = true;
        }
      }
      for (const sub of subdirs) await visit(sub);
      if (found && dir !== this.rootDirectory) {
        // Only if empty: a put that just made the directory again keeps it (ENOTEMPTY).
        await rmdir(dir).catch(() => {});
      }
    };
    await visit(this.rootDirectory);
    return removed;
  }

  #resolve(p: string, allowRoot = false): string {
    validatePath(p, { allowRoot });
    if (p.split("/").some((component) => component.startsWith(TEMP_PREFIX))) throw new InvalidPathError(p);
    const full = path.resolve(this.rootDirectory, `.${p}`);
    // validatePath already forbids "..", so this only fails if that ever regresses.
    if (full !== this.rootDirectory && !full.startsWith(this.#rootPrefix)) throw new InvalidPathError(p);
    return full;
  }
}

class FilesystemWriter implements FileWriter {
  #size: number;
  #state: "open" | "committed" | "cancelled" | "closed" = "open";
  /** Writes run one after another even if a caller does not await each before the next. */
  #tail: Promise<void> = Promise.resolve();
  /** After a failed write the file has a hole or a torn chunk; nothing more may be appended. */
  #failure: unknown;
  #queue: { chunk: Uint8Array; resolve(): void; reject(err: unknown): void }[] = [];

  readonly #fullPath: string;
  readonly #handle: FileHandle;

  constructor(fullPath: string, handle: FileHandle, size: number) {
    this.#fullPath = fullPath;
    this.#handle = handle;
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== "open")
      return Promise.reject(new Error(`writer is ${this.#state}: ${this.#fullPath}`));
    // Chunks queued while a write is under way go out together in one writev: an upload arrives
    // in 64 KiB pieces, and one thread-pool round trip per piece would be the bottleneck.
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ chunk, resolve, reject });
      if (this.#queue.length === 1) this.#tail = this.#tail.then(() => this.#flush());
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, 1024);
      try {
        await this.#writeAll(batch.map((b) => b.chunk));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
  }

  async commit(): Promise<void> {
    this.#finish("committed");
    await this.#tail;
    try {
      if (this.#failure !== undefined) throw this.#failure;
      await this.#handle.sync();
    } finally {
      await this.#handle.close();
    }
  }

  async cancel(): Promise<void> {
    this.#finish("cancelled");
    await this.#tail;
    await this.#handle.close();
    await rm(this.#fullPath, { force: true });
  }

  /** Idempotent, so callers can close in a `finally` after committing or cancelling. */
  async close(): Promise<void> {
    if (this.#state !== "open") return;
    this.#finish("closed");
    await this.#tail;
    await this.#handle.close();
  }

  #finish(state: "committed" | "cancelled" | "closed"): void {
    if (this.#state !== "open") throw new Error(`writer is ${this.#state}: ${this.#fullPath}`);
    this.#state = state;
  }

  async #writeAll(chunks: Uint8Array[]): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      let pending = chunks.filter((c) => c.byteLength > 0);
      while (pending.length > 0) {
        // position null: the file's own offset (or its end, for a file opened to append).
        const { bytesWritten } = await this.#handle.writev(pending);
        this.#size += bytesWritten;
        pending = skipBytes(pending, bytesWritten);
      }
    } catch (err) {
      this.#failure = err;
      throw err;
    }
  }
}

/** What is left of a list of chunks after the first n bytes were written (a short writev). */
function skipBytes(chunks: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < chunks.length && n >= chunks[i]!.byteLength) n -= chunks[i++]!.byteLength;
  const rest = chunks.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

function checkRange(offset: number, end: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid read offset: ${offset}`);
  // end = offset - 1 is the empty range, so `reader(p, 0, size - 1)` works for an empty object.
  if (end !== undefined && (!Number.isSafeInteger(end) || end < offset - 1)) {
    throw new RangeError(`invalid read range: ${offset}-${end}`);
  }
}

/**
 * Makes `dir` and creates something in it. A sweep may remove an empty directory between the two
 * steps (see sweep): then it is made again, once.
 */
async function inDirectory<T>(dir: string, create: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  try {
    return await create();
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    await mkdir(dir, { recursive: true });
    return create();
  }
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? "");
}

/** ENOTDIR means a parent is a file, which is as good as missing for a tree of objects. */
function translate(err: unknown, p: string, ...extraCodes: string[]): unknown {
  return isErrno(err, "ENOENT", "ENOTDIR", ...extraCodes) ? new PathNotFoundError(p) : err;
}
