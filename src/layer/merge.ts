import {
  chmodSync,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
  utimesSync,
} from "node:fs";
import { join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { lstatOrUndefined, mknod, setXattr, splitDevice, xattrsOf } from "./special-files.js";
import { compareStrings } from "./tar.js";
import {
  isOpaqueValue,
  isWhiteoutDevice,
  OPAQUE_MARKER,
  OPAQUE_XATTR,
  WHITEOUT_META_PREFIX,
  WHITEOUT_PREFIX,
} from "./whiteouts.js";

export interface MergeOptions {
  /**
   * Hard-link files from the layers instead of copying them: fast, but the view then shares
   * inodes with the layers, so it must be treated as read-only (an export, a test). Falls back to
   * copying across filesystems.
   */
  hardlink?: boolean;
  /** Keep owners, device nodes and xattrs (default: running as root). */
  asRoot?: boolean;
}

/**
 * Flattens layer directories (bottom to top, as `unpackLayer` leaves them) into `dest`, an
 * empty directory: what overlayfs would show. Whiteouts in either spelling (0/0 character
 * devices or `.wh.` files) remove what lower layers put there, and an opaque directory (the
 * trusted.overlay.opaque xattr or a `.wh..wh..opq` file) hides all of its lower contents.
 * Nothing is written through a symlink in `dest`: every directory is checked with lstat.
 */
export async function mergedView(layerDirs: string[], dest: string, opts: MergeOptions = {}): Promise<void> {
  const asRoot = opts.asRoot ?? process.getuid?.() === 0;
  const pending = new Map<string, { mode: number; mtime: number }>();
  for (const layer of layerDirs) {
    const merger = new LayerMerger(layer, dest, asRoot, opts.hardlink ?? false, pending);
    await merger.dir("");
  }
  // Directory modes and times last, as their contents changed them.
  for (const [path, { mode, mtime }] of [...pending].reverse()) {
    chmodSync(path, mode);
    utimesSync(path, mtime, mtime);
  }
}

class LayerMerger {
  private readonly xattrs: Map<string, Map<string, Buffer>>;
  /** Files of this layer already copied, by inode: later names become hard links to the copy. */
  private readonly copies = new Map<number, string>();
  private work = 0;

  constructor(
    private readonly layer: string,
    private readonly dest: string,
    private readonly asRoot: boolean,
    private hardlink: boolean,
    private readonly pending: Map<string, { mode: number; mtime: number }>,
  ) {
    this.xattrs = xattrsOf(layer);
  }

  async dir(rel: string): Promise<void> {
    const src = join(this.layer, rel);
    const dst = join(this.dest, rel);
    const names = readdirSync(src).sort(compareStrings);
    const stats = new Map(names.map((n) => [n, lstatSync(join(src, n))]));
    // Deletions first: they apply to the layers below, never to this layer's own entries.
    if (names.includes(OPAQUE_MARKER) || isOpaqueValue(this.xattrs.get(rel)?.get(OPAQUE_XATTR)))
      for (const n of readdirSync(dst)) this.remove(join(dst, n));
    for (const [name, st] of stats) {
      if (name.startsWith(WHITEOUT_META_PREFIX)) continue;
      if (name.startsWith(WHITEOUT_PREFIX)) this.remove(join(dst, name.slice(WHITEOUT_PREFIX.length)));
      else if (isWhiteoutDevice(st)) this.remove(join(dst, name));
    }
    for (const [name, st] of stats) {
      if (name.startsWith(WHITEOUT_PREFIX) || isWhiteoutDevice(st)) continue;
      await this.entry(rel ? `${rel}/${name}` : name, st);
    }
  }

  private async entry(rel: string, st: Stats): Promise<void> {
    if (++this.work % 512 === 0) await yieldToLoop(); // a large tree should not stall the event loop
    const src = join(this.layer, rel);
    const dst = join(this.dest, rel);
    const existing = lstatOrUndefined(dst);
    if (st.isDirectory()) {
      if (!existing?.isDirectory()) {
        if (existing) this.remove(dst);
        mkdirSync(dst, 0o700);
      }
      this.metadata(dst, st, rel, false);
      this.pending.set(dst, { mode: st.mode & 0o7777, mtime: st.mtimeMs / 1000 });
      await this.dir(rel);
      return;
    }
    if (existing) this.remove(dst);
    if (st.isFile()) {
      const copied = st.nlink > 1 ? this.copies.get(st.ino) : undefined;
      if (copied !== undefined) {
        linkSync(copied, dst);
        return;
      }
      if (this.hardlink) {
        try {
          linkSync(src, dst);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
          this.hardlink = false;
        }
      }
      copyFileSync(src, dst);
      if (st.nlink > 1) this.copies.set(st.ino, dst);
      this.metadata(dst, st, rel, true);
    } else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dst);
      if (this.asRoot) lchownSync(dst, st.uid, st.gid);
      lutimesSync(dst, st.atime, st.mtime);
    } else if (this.asRoot && (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO())) {
      const kind = st.isFIFO() ? "p" : st.isCharacterDevice() ? "c" : "b";
      const { major, minor } = splitDevice(st.rdev);
      mknod(dst, kind, st.mode, major, minor);
      this.metadata(dst, st, rel, true);
    }
  }

  private metadata(dst: string, st: Stats, rel: string, modeAndTime: boolean): void {
    if (this.asRoot) lchownSync(dst, st.uid, st.gid);
    if (modeAndTime) chmodSync(dst, st.mode & 0o7777); // after chown, which clears setuid
    if (this.asRoot)
      for (const [name, value] of this.xattrs.get(rel) ?? [])
        if (!name.startsWith("trusted.overlay.")) setXattr(dst, name, value);
    if (modeAndTime) utimesSync(dst, st.atime, st.mtime);
  }

  private remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
    for (const p of this.pending.keys()) if (p === path || p.startsWith(`${path}/`)) this.pending.delete(p);
  }
}
