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
  type Stats,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { UnsafeLayerError } from "./errors.js";
import { sizeFreedByRemoving } from "./size.js";
import { lstatOrUndefined, mknod, setXattr } from "./special-files.js";
import type { TarEntry, TarSink } from "./tar.js";
import { OPAQUE_MARKER, OPAQUE_XATTR, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX } from "./whiteouts.js";

export interface ExtractorOptions {
  /** Keep owners, device nodes and xattrs, and write overlayfs whiteouts. */
  asRoot: boolean;
  /** The process umask, which the mode given to open() and mkdir() passes through. */
  umask: number;
}

interface PendingDir {
  path: string;
  mode: number;
  mtime?: number;
}

/**
 * Applies tar entries to a layer directory with synchronous fs calls (it runs on the unpack
 * worker, where a blocking call costs no other work and skips a thread-pool round trip per
 * syscall). Every path stays inside `root`: names are cleaned and refused when absolute or with
 * "..", no entry is created through a symlink (every parent is a directory this extractor made
 * or checked with lstat), and hard links point at earlier entries reached the same way.
 */
export class Extractor implements TarSink {
  entries = 0;
  /** The layer's size as Docker counts it (see size.ts), kept as entries are written and replaced. */
  contentSize = 0;
  readonly skipped: string[] = [];
  /** Directories under root known to be real directories (not symlinks), created or checked. */
  private readonly safeDirs = new Set<string>([""]);
  /** Directory modes and times, applied last so that writing their contents does not undo them. */
  private readonly dirs = new Map<string, PendingDir>();
  private fd = -1;
  private file: TarEntry | undefined;
  private filePath = "";
  /** Whether a file created by this process already has the owner uid:gid. */
  private readonly createdAs: { uid: number; gid: number } | undefined;

  constructor(
    private readonly root: string,
    private readonly opts: ExtractorOptions,
  ) {
    const rootStat = statSync(root);
    // A setgid root would hand its group to new files, so the creator's ids would be wrong.
    this.createdAs =
      process.getuid && process.getgid && !(rootStat.mode & 0o2000)
        ? { uid: process.getuid(), gid: process.getgid() }
        : undefined;
  }

  entry(e: TarEntry): void {
    this.entries++;
    const name = cleanName(e.name);
    if (name === "") {
      if (e.type !== "directory")
        throw new UnsafeLayerError(e.name, "a non-directory entry names the layer root");
      this.chown(this.root, e);
      this.dirs.set("", { path: this.root, mode: e.mode, mtime: e.mtime });
      return;
    }
    const slash = name.lastIndexOf("/");
    const parent = slash < 0 ? "" : name.slice(0, slash);
    const base = name.slice(slash + 1);
    this.ensureDir(parent, e.name);
    const full = join(this.root, name);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(parent, base, e);
      return;
    }
    switch (e.type) {
      case "file":
        this.openFile(name, full, e);
        this.contentSize += e.size;
        return;
      case "directory": {
        try {
          mkdirSync(full, 0o755);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
          // Two entries for one directory merge; a directory replaces anything else.
          if (!lstatSync(full).isDirectory()) {
            this.remove(name, full);
            mkdirSync(full, 0o755);
          }
        }
        this.safeDirs.add(name);
        this.chown(full, e);
        this.xattrs(full, e);
        this.dirs.set(name, { path: full, mode: e.mode, mtime: e.mtime });
        return;
      }
      case "symlink":
        this.clear(name, full);
        // Its target may point anywhere: it is resolved inside the container, and nothing here
        // ever writes through it (see ensureDir).
        symlinkSync(e.linkname, full);
        this.contentSize += Buffer.byteLength(e.linkname);
        this.chown(full, e);
        this.xattrs(full, e);
        lutimesSync(full, e.mtime, e.mtime);
        return;
      case "link":
        this.hardlink(name, full, e);
        return;
      case "character-device":
      case "block-device":
      case "fifo": {
        if (!this.opts.asRoot) {
          this.skipped.push(name);
          return;
        }
        this.clear(name, full);
        const kind = e.type === "fifo" ? "p" : e.type === "character-device" ? "c" : "b";
        mknod(full, kind, e.mode, e.devmajor, e.devminor);
        this.chown(full, e);
        chmodSync(full, e.mode & 0o7777); // after chown, which clears setuid and setgid
        this.xattrs(full, e);
        lutimesSync(full, e.mtime, e.mtime);
        return;
      }
      default:
        // Volume labels and other tar bookkeeping are not part of a filesystem.
        return;
    }
  }

  data(chunk: Buffer): void {
    if (this.fd < 0) return;
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
  }

  entryEnd(): void {
    if (this.fd < 0) return;
    const e = this.file!;
    const fd = this.fd;
    this.fd = -1;
    try {
      const owned = this.needsChown(e);
      if (owned) fchownSync(fd, e.uid, e.gid);
      // open() applied the umask and no special bits; chown clears setuid and setgid.
      const mode = e.mode & 0o7777;
      if (owned || mode !== (mode & 0o777 & ~this.opts.umask)) fchmodSync(fd, mode);
      futimesSync(fd, e.mtime, e.mtime);
    } finally {
      closeSync(fd);
    }
    // Last: chown would drop a security.capability set before it.
    this.xattrs(this.filePath, e);
  }

  /** Applies directory modes and times, deepest last-created first. */
  finish(): void {
    for (const d of [...this.dirs.values()].reverse()) {
      chmodSync(d.path, d.mode & 0o7777);
      if (d.mtime !== undefined) utimesSync(d.path, d.mtime, d.mtime);
    }
  }

  /** Releases the open file, if any, after an error. */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private openFile(name: string, full: string, e: TarEntry): void {
    // "wx" (O_EXCL) never follows a symlink at `full`; a path already there (a duplicate entry,
    // a directory, a symlink) is cleared and the open retried.
    const mode = e.mode & 0o777;
    try {
      this.fd = openSync(full, "wx", mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      this.clear(name, full);
      this.fd = openSync(full, "wx", mode);
    }
    this.file = e;
    this.filePath = full;
  }

  private hardlink(name: string, full: string, e: TarEntry): void {
    // An absolute target names a file of the image's root, as an absolute entry name does.
    const target = cleanName(e.linkname, e.name);
    if (target === "") throw new UnsafeLayerError(e.name, "hard link to the layer root");
    if (target === name) return;
    const slash = target.lastIndexOf("/");
    this.checkDir(slash < 0 ? "" : target.slice(0, slash), e.name);
    const targetFull = join(this.root, target);
    const st = lstatOrUndefined(targetFull);
    if (!st || st.isDirectory())
      throw new UnsafeLayerError(
        e.name,
        `hard link target ${JSON.stringify(target)} is not an earlier file of this layer`,
      );
    this.clear(name, full);
    linkSync(targetFull, full); // link(2) does not follow a symlink target on Linux
  }

  private whiteout(parent: string, base: string, e: TarEntry): void {
    const dir = join(this.root, parent);
    if (base === OPAQUE_MARKER) {
      if (this.opts.asRoot) setXattr(dir, OPAQUE_XATTR, Buffer.from("y"));
      else this.marker(parent ? `${parent}/${base}` : base);
      return;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) return;
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === "" || hidden === "." || hidden === "..")
      throw new UnsafeLayerError(e.name, "malformed whiteout");
    if (this.opts.asRoot) {
      const name = parent ? `${parent}/${hidden}` : hidden;
      const full = join(dir, hidden);
      this.clear(name, full);
      mknod(full, "c", 0, 0, 0);
    } else {
      this.marker(parent ? `${parent}/${base}` : base);
    }
  }

  /** An empty marker file (the rootless spelling of a whiteout). */
  private marker(name: string): void {
    const full = join(this.root, name);
    this.clear(name, full);
    closeSync(openSync(full, "wx", 0o644));
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
      if (!st) {
        mkdirSync(full, 0o755);
        if (this.opts.umask & 0o755) this.dirs.set(sofar, { path: full, mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw new UnsafeLayerError(
          entry,
          `${JSON.stringify(sofar)} is a symlink: writing through it could leave the layer`,
        );
      } else if (!st.isDirectory()) {
        throw new UnsafeLayerError(entry, `${JSON.stringify(sofar)} is not a directory`);
      }
      this.safeDirs.add(sofar);
    }
  }

  /** Like ensureDir, but creates nothing: for hard link targets. */
  private checkDir(dir: string, entry: string): void {
    if (this.safeDirs.has(dir)) return;
    let sofar = "";
    for (const part of dir.split("/")) {
      sofar = sofar ? `${sofar}/${part}` : part;
      if (this.safeDirs.has(sofar)) continue;
      if (!lstatOrUndefined(join(this.root, sofar))?.isDirectory())
        throw new UnsafeLayerError(
          entry,
          `hard link through ${JSON.stringify(sofar)}, which is not a directory of this layer`,
        );
    }
  }

  /** Clears the way for a non-directory entry at `name`. */
  private clear(name: string, full: string): void {
    const st = lstatOrUndefined(full);
    if (st) this.remove(name, full, st);
  }

  private remove(name: string, full: string, st: Stats = lstatSync(full)): void {
    if (!st.isDirectory()) {
      unlinkSync(full);
      if (st.nlink <= 1) this.contentSize -= st.size;
      return;
    }
    this.contentSize -= sizeFreedByRemoving(full);
    rmSync(full, { recursive: true, force: true });
    const prefix = `${name}/`;
    for (const d of this.safeDirs) if (d === name || d.startsWith(prefix)) this.safeDirs.delete(d);
    for (const d of this.dirs.keys()) if (d === name || d.startsWith(prefix)) this.dirs.delete(d);
  }

  private needsChown(e: TarEntry): boolean {
    if (!this.opts.asRoot) return false;
    return !this.createdAs || this.createdAs.uid !== e.uid || this.createdAs.gid !== e.gid;
  }

  private chown(full: string, e: TarEntry): void {
    if (this.needsChown(e)) lchownSync(full, e.uid, e.gid);
  }

  private xattrs(full: string, e: TarEntry): void {
    if (!this.opts.asRoot || !e.xattrs) return;
    for (const [name, value] of e.xattrs) setXattr(full, name, value);
  }
}

/**
 * A tar entry name made relative to the layer: "./a//b/" -> "a/b", and "/etc/x" -> "etc/x"
 * (an absolute name means the same place in the image's root, as Docker, podman and umoci
 * extract it). Refuses any "..", naming `entry` (the entry being unpacked, when `raw` is its
 * link target) in the error.
 */
export function cleanName(raw: string, entry = raw): string {
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new UnsafeLayerError(entry, `path ${JSON.stringify(raw)} with '..'`);
    if (part.includes("\0")) throw new UnsafeLayerError(entry, "NUL in path");
    parts.push(part);
  }
  return parts.join("/");
}
