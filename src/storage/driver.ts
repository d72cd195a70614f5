import type { Readable } from "node:stream";
import { BerthError } from "../errors.js";

/**
 * The registry's storage driver: a handful of verbs over a tree of slash-separated paths
 * ("/blobs/sha256/ab/ab12.../data"), in the spirit of distribution's StorageDriver. Everything
 * registry-shaped (repositories, links, tags, uploads) is built above it, so another backend
 * (S3) only has to provide these verbs. Nothing above a driver may assume a local path.
 *
 * Paths always start with "/", never end with "/", and never contain "." or ".." components;
 * drivers reject anything else with InvalidPathError.
 */
export interface StorageDriver {
  readonly name: string;
  /** Whole content of a small object. Throws PathNotFoundError. */
  getContent(path: string): Promise<Buffer>;
  /** Atomically replaces a small object: readers see the old or the new content, never a mix. */
  putContent(path: string, content: Uint8Array): Promise<void>;
  /** A stream of the object from byte `offset` (to `end` inclusive, if given). Throws PathNotFoundError. */
  reader(path: string, offset?: number, end?: number): Promise<Readable>;
  /**
   * A writer for a large object. With `append`, writes continue after what earlier writers of
   * the path wrote and closed (an upload resumed after a restart, or on another replica). What a
   * writer writes is readable at `path` once it commits (a driver may show it earlier, as the
   * filesystem does); `stat` reports the bytes written and closed so far. Callers write to a
   * private path and `move` it into place when verified.
   */
  writer(path: string, append: boolean): Promise<FileWriter>;
  /** Throws PathNotFoundError. */
  stat(path: string): Promise<FileInfo>;
  /** Names (not paths) of the direct children of a directory, unsorted. Throws PathNotFoundError. */
  list(path: string): Promise<string[]>;
  /** Atomically moves an object to a new path, replacing what is there. Throws PathNotFoundError. */
  move(source: string, dest: string): Promise<void>;
  /** Deletes an object or a whole directory tree. Throws PathNotFoundError. */
  delete(path: string): Promise<void>;
  /**
   * Visits everything below a directory, depth first, the children of each directory in byte
   * order of their names: files and directories alike, a directory before its contents. `visit`
   * answering "skip" for a directory leaves out what is below it. Entries that vanish during the
   * walk (deleted by someone else) are left out. Throws PathNotFoundError when `path` is missing
   * or a file; "/" is an empty directory before the first put.
   */
  walk(path: string, visit: WalkFn): Promise<void>;
  /**
   * Removes what writers killed half-way left of the driver's own (the filesystem's temporary
   * files), never anything modified at or after `olderThan`: a write in progress, in this process
   * or another sharing the storage, is younger. Returns how many were removed. A driver that
   * leaves nothing of the kind has no sweep.
   */
  sweep?(olderThan: Date): Promise<number>;
}

/**
 * Called once per entry of a walk, which waits for a promise it returns. Answering "skip" (or a
 * promise of it) for a directory keeps the walk out of it; any other answer is ignored.
 */
export type WalkFn = (entry: FileInfo) => unknown;

/** Byte order of names, the order a walk visits children in (and S3 lists keys in). */
export function byName(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export interface FileInfo {
  path: string;
  size: number;
  modTime: Date;
  isDir: boolean;
}

export interface FileWriter {
  /** Bytes in the object so far, including any that were there before an append. */
  readonly size: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes to durable storage and closes the writer; the content stays at its path. */
  commit(): Promise<void>;
  /** Closes the writer and deletes what it wrote. */
  cancel(): Promise<void>;
  /** Closes the writer, keeping what was written so far (for a later append). */
  close(): Promise<void>;
}

export class PathNotFoundError extends BerthError {
  override readonly name = "PathNotFoundError";
  override readonly code = "PATH_NOT_FOUND";
  constructor(readonly path: string) {
    super(`path not found: ${path}`);
  }
}

/** The backing service (object storage) cannot be reached or fails; nothing was half-written. */
export class StorageUnavailableError extends BerthError {
  override readonly name = "StorageUnavailableError";
  override readonly code = "STORAGE_UNAVAILABLE";
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export class InvalidPathError extends BerthError {
  override readonly name = "InvalidPathError";
  override readonly code = "INVALID_PATH";
  constructor(readonly path: string) {
    super(`invalid storage path: ${JSON.stringify(path)}`);
  }
}
