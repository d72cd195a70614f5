import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, type Header } from "tar-stream";
import { digestTransform } from "../oci/digest.js";
import { type Compression, decompressStream, detectCompression, peek } from "./compression.js";
import { DiffIdMismatchError, UnsafeLayerError } from "./errors.js";

export interface UnpackOptions {
  /** The layer blob: a tar, gzip- or zstd-compressed (detected from its first bytes). */
  source: Readable;
  /** A fresh, empty directory. On error it is left in an undefined state: unpack into a temporary directory and rename it into place on success. */
  dest: string;
  /** The diff_id from the image config: the sha256 of the uncompressed tar. */
  expectedDiffId?: string;
  mediaType?: string;
  /** Keep owners, device nodes, xattrs and write overlayfs whiteouts (default: running as root). */
  asRoot?: boolean;
}

export interface UnpackResult {
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  entries: number;
  compression: Compression;
  /** Entries not created: device nodes and fifos when not running as root. */
  skipped: string[];
}

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * Unpacks a layer into its own directory, the overlay2 way: whiteouts become overlayfs
 * whiteouts (0/0 character devices, and the trusted.overlay.opaque xattr) when running as root,
 * and stay as ".wh." marker files otherwise. Nothing is written outside `dest`: paths with ".."
 * or a leading "/" are refused, no entry is written through a symlink, and hard links must point
 * at an earlier entry of the same layer. The diff_id is computed from the uncompressed stream
 * and checked at the end.
 */
export async function unpackLayer(opts: UnpackOptions): Promise<UnpackResult> {
  const asRoot = opts.asRoot ?? process.getuid?.() === 0;
  const { head, stream } = await peek(opts.source, 4);
  const compression = detectCompression(head);
  const hasher = digestTransform("sha256");
  const writer = new LayerWriter(opts.dest, asRoot);
  const tar = extract();
  tar.on("entry", (header, body, next) => {
    writer
      .entry(header, body)
      .then(() => next())
      .catch((err: unknown) => next(err as Error));
  });
  let size = 0;
  hasher.on("data", () => {});
  await pipeline(
    stream,
    decompressStream(compression),
    hasher,
    async function* (chunks) {
      for await (const chunk of chunks) {
        size += (chunk as Buffer).length;
        yield chunk;
      }
    },
    tar,
  );
  writer.finish();
  const diffId = hasher.digester.digest().toString();
  if (opts.expectedDiffId && diffId !== opts.expectedDiffId)
    throw new DiffIdMismatchError(opts.expectedDiffId, diffId);
  return { diffId, size, entries: writer.entries, compression, skipped: writer.skipped };
}

interface PendingDir {
  path: string;
  mode: number;
  mtime?: Date;
}

/** Writes tar entries under a root, keeping every path inside it. */
class LayerWriter {
  entries = 0;
  readonly skipped: string[] = [];
  /** Directories under root known to be real directories (not symlinks), created or checked. */
  private readonly safeDirs = new Set<string>([""]);
  private readonly dirs = new Map<string, PendingDir>();

  constructor(
    private readonly root: string,
    private readonly asRoot: boolean,
  ) {}

  async entry(header: Header, body: AsyncIterable<unknown>): Promise<void> {
    this.entries++;
    const name = cleanName(header.name);
    if (name === "") {
      await drain(body);
      return;
    }
    const slash = name.lastIndexOf("/");
    const parent = slash < 0 ? "" : name.slice(0, slash);
    const base = name.slice(slash + 1);
    this.ensureDir(parent, header.name);
    const full = join(this.root, name);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      await drain(body);
      this.whiteout(parent, base, header.name);
      return;
    }

    switch (header.type) {
      case "directory": {
        await drain(body);
        const existing = lstatOrUndefined(full);
        if (existing && !existing.isDirectory()) this.remove(name, full);
        if (!existing?.isDirectory()) mkdirSync(full, { mode: 0o755 });
        this.safeDirs.add(name);
        this.own(full, header);
        this.dirs.set(name, { path: full, mode: header.mode ?? 0o755, mtime: header.mtime });
        return;
      }
      case "file":
      case "contiguous-file": {
        // The common case in one open/write/fchmod/futimes/close; a path already there (a
        // duplicate entry, a directory, a symlink: "wx" never follows one) is cleared first.
        let fd: number;
        try {
          fd = openSync(full, "wx", 0o600);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
          this.replace(name, full);
          fd = openSync(full, "wx", 0o600);
        }
        try {
          for await (const chunk of body) {
            const buf = chunk as Buffer;
            let off = 0;
            while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
          }
          const uid = header.uid ?? 0;
          const gid = header.gid ?? 0;
          if (this.asRoot && (uid !== 0 || gid !== 0)) fchownSync(fd, uid, gid);
          // After chown, which clears setuid and setgid bits.
          fchmodSync(fd, (header.mode ?? 0o644) & 0o7777);
          if (header.mtime) futimesSync(fd, header.mtime, header.mtime);
        } finally {
          closeSync(fd);
        }
        this.xattrs(full, header);
        return;
      }
      case "symlink": {
        await drain(body);
        this.replace(name, full);
        symlinkSync(header.linkname ?? "", full);
        this.finishEntry(full, header, false);
        return;
      }
      case "link": {
        await drain(body);
        const target = cleanName(header.linkname ?? "");
        if (target === "" || (header.linkname ?? "").startsWith("/")) {
          throw new UnsafeLayerError(
            header.name,
            `hard link to ${JSON.stringify(header.linkname)} leaves the layer`,
          );
        }
        const tslash = target.lastIndexOf("/");
        this.checkDir(tslash < 0 ? "" : target.slice(0, tslash), header.name);
        const targetFull = join(this.root, target);
        const st = lstatOrUndefined(targetFull);
        if (!st || st.isDirectory()) {
          throw new UnsafeLayerError(
            header.name,
            `hard link target ${JSON.stringify(target)} is not an earlier file of this layer`,
          );
        }
        this.replace(name, full);
        linkSync(targetFull, full);
        return;
      }
      case "character-device":
      case "block-device":
      case "fifo": {
        await drain(body);
        if (!this.asRoot) {
          this.skipped.push(name);
          return;
        }
        this.replace(name, full);
        const kind =
          header.type === "fifo"
            ? ["p"]
            : [
                header.type === "character-device" ? "c" : "b",
                String(header.devmajor ?? 0),
                String(header.devminor ?? 0),
              ];
        execFileSync("mknod", ["-m", (header.mode ?? 0o600).toString(8), full, ...kind]);
        this.finishEntry(full, header, true);
        return;
      }
      default:
        // pax headers are consumed by tar-stream; anything else (GNU sparse, volume labels) is not part of a layer.
        await drain(body);
    }
  }

  /** Applies directory modes and times last, so that writing their contents did not change them. */
  finish(): void {
    for (const d of [...this.dirs.values()].reverse()) {
      chmodSync(d.path, d.mode & 0o7777);
      if (d.mtime) utimesSync(d.path, d.mtime, d.mtime);
    }
  }

  private whiteout(parent: string, base: string, entry: string): void {
    const dir = join(this.root, parent);
    if (base === OPAQUE) {
      if (this.asRoot) execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", dir]);
      else closeSync(openSync(join(dir, OPAQUE), "w", 0o600));
      return;
    }
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === "" || hidden === "." || hidden === "..")
      throw new UnsafeLayerError(entry, "malformed whiteout");
    if (this.asRoot) {
      const target = join(dir, hidden);
      this.replace(parent ? `${parent}/${hidden}` : hidden, target);
      execFileSync("mknod", ["-m", "0", target, "c", "0", "0"]);
    } else {
      closeSync(openSync(join(dir, base), "w", 0o600));
    }
  }

  /** Makes sure every component of `dir` is a real directory inside root, creating missing ones. */
  private ensureDir(dir: string, entry: string): void {
    if (this.safeDirs.has(dir)) return;
    let sofar = "";
    for (const part of dir.split("/")) {
      sofar = sofar ? `${sofar}/${part}` : part;
      if (this.safeDirs.has(sofar)) continue;
      const full = join(this.root, sofar);
      const st = lstatOrUndefined(full);
      if (!st) mkdirSync(full, { mode: 0o755 });
      else if (st.isSymbolicLink())
        throw new UnsafeLayerError(
          entry,
          `${JSON.stringify(sofar)} is a symlink: writing through it could leave the layer`,
        );
      else if (!st.isDirectory())
        throw new UnsafeLayerError(entry, `${JSON.stringify(sofar)} is not a directory`);
      this.safeDirs.add(sofar);
    }
  }

  /** Like ensureDir but creates nothing: for hard link targets. */
  private checkDir(dir: string, entry: string): void {
    if (this.safeDirs.has(dir)) return;
    let sofar = "";
    for (const part of dir.split("/")) {
      sofar = sofar ? `${sofar}/${part}` : part;
      if (this.safeDirs.has(sofar)) continue;
      const st = lstatOrUndefined(join(this.root, sofar));
      if (!st?.isDirectory())
        throw new UnsafeLayerError(
          entry,
          `hard link through ${JSON.stringify(sofar)}, which is not a directory of this layer`,
        );
    }
  }

  /** Clears the way for a non-directory entry at `name`. */
  private replace(name: string, full: string): void {
    const st = lstatOrUndefined(full);
    if (st) this.remove(name, full, st.isDirectory());
  }

  private remove(name: string, full: string, isDir = false): void {
    if (isDir) {
      rmSync(full, { recursive: true, force: true });
      for (const d of [...this.safeDirs]) if (d === name || d.startsWith(`${name}/`)) this.safeDirs.delete(d);
      for (const d of [...this.dirs.keys()]) if (d === name || d.startsWith(`${name}/`)) this.dirs.delete(d);
    } else {
      unlinkSync(full);
    }
  }

  private own(full: string, header: Header): void {
    // Root creates everything as 0:0 already.
    if (this.asRoot && (header.uid || header.gid)) lchownSync(full, header.uid ?? 0, header.gid ?? 0);
    this.xattrs(full, header);
  }

  private finishEntry(full: string, header: Header, chmod: boolean): void {
    this.own(full, header);
    // chmod after chown: chown clears setuid and setgid bits.
    if (chmod) chmodSync(full, (header.mode ?? 0o644) & 0o7777);
    if (header.mtime) lutimesSync(full, header.mtime, header.mtime);
  }

  private xattrs(full: string, header: Header): void {
    if (!this.asRoot || !header.pax) return;
    for (const [key, value] of Object.entries(header.pax as Record<string, string>)) {
      if (!key.startsWith("SCHILY.xattr.")) continue;
      const name = key.slice("SCHILY.xattr.".length);
      const encoded = `0s${Buffer.from(value, "binary").toString("base64")}`;
      execFileSync("setfattr", ["-h", "-n", name, "-v", encoded, full]);
    }
  }
}

/** A tar entry name made relative: "./a/b/" -> "a/b". Refuses absolute names and "..". */
export function cleanName(raw: string): string {
  if (raw.startsWith("/")) throw new UnsafeLayerError(raw, "absolute path");
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new UnsafeLayerError(raw, "path with '..'");
    if (part.includes("\0")) throw new UnsafeLayerError(raw, "NUL in path");
    parts.push(part);
  }
  return parts.join("/");
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function drain(body: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of body) {
    // discard
  }
}
