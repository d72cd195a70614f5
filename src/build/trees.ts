import { readdirSync, readlinkSync, type Stats } from "node:fs";
import { resolve } from "node:path";
import { lstatOrUndefined, xattrsOf } from "../layer/special-files.js";
import { compareStrings } from "../layer/tar.js";
import {
  isOpaqueValue,
  isWhiteoutDevice,
  OPAQUE_MARKER,
  OPAQUE_XATTR,
  WHITEOUT_META_PREFIX,
  WHITEOUT_PREFIX,
} from "../layer/whiteouts.js";

/**
 * What COPY reads from: the build context (a directory, with .dockerignore's exclusions made
 * invisible) or a stage's or image's filesystem (a stack of unpacked layer directories, read
 * as overlayfs would show it, without mounting anything). Paths are relative, "/"-separated,
 * already clean; "" is the root.
 */
export interface SourceTree {
  /** The entry itself (a symlink is not followed), and the host file that holds it. */
  entry(rel: string): TreeEntry | undefined;
  /** Names in a directory, sorted, without hidden or excluded ones. */
  list(rel: string): readonly string[];
}

export interface TreeEntry {
  stat: Stats;
  host: string;
}

export type IgnoreMatcher = (rel: string) => boolean;

/**
 * A directory, with .dockerignore's exclusions. Its files are read many times in a build (sized,
 * matched, hashed, copied): stats and listings are kept, as the context does not change while it
 * is built.
 */
export class DirectoryTree implements SourceTree {
  readonly root: string;
  private readonly visibility = new Map<string, boolean>();
  private readonly stats = new Map<string, Stats | undefined>();
  private readonly listings = new Map<string, string[]>();

  constructor(
    root: string,
    private readonly ignored?: IgnoreMatcher,
    /** Whether an ignored directory may still hold included files (the patterns have `!` rules). */
    private readonly hasExceptions = false,
  ) {
    this.root = resolve(root);
  }

  private visible(rel: string, st: Stats): boolean {
    if (rel === "" || !this.ignored) return true;
    let v = this.visibility.get(rel);
    if (v === undefined) {
      v = !this.ignored(rel) || (st.isDirectory() && this.hasExceptions && this.includesSomething(rel));
      this.visibility.set(rel, v);
    }
    return v;
  }

  private stat(rel: string): Stats | undefined {
    if (this.stats.has(rel)) return this.stats.get(rel);
    const st = lstatOrUndefined(under(this.root, rel));
    this.stats.set(rel, st);
    return st;
  }

  private includesSomething(rel: string): boolean {
    for (const name of readdirSync(under(this.root, rel))) {
      const child = `${rel}/${name}`;
      const st = this.stat(child);
      if (st && this.visible(child, st)) return true;
    }
    return false;
  }

  entry(rel: string): TreeEntry | undefined {
    const stat = this.stat(rel);
    if (!stat) return undefined;
    // Every ancestor must be visible too (an excluded directory hides what is under it).
    const slash = rel.lastIndexOf("/");
    if (slash > 0 && !this.entry(rel.slice(0, slash))) return undefined;
    return this.visible(rel, stat) ? { stat, host: under(this.root, rel) } : undefined;
  }

  list(rel: string): readonly string[] {
    const known = this.listings.get(rel);
    if (known) return known;
    const out: string[] = [];
    for (const name of readdirSync(under(this.root, rel)).sort(compareStrings)) {
      const child = rel === "" ? name : `${rel}/${name}`;
      const st = this.stat(child);
      if (st && this.visible(child, st)) out.push(name);
    }
    this.listings.set(rel, out);
    return out;
  }
}

/** Each layer directory's opaque directories, once found: reading them takes a walk of the whole layer. */
export interface OpaqueMemo {
  get(layer: string): Set<string> | undefined;
  set(layer: string, dirs: Set<string>): void;
}

type Probe =
  | { state: "found"; stat: Stats; host: string; opaqueAbove: boolean }
  | { state: "absent"; opaqueAbove: boolean }
  | { state: "blocked" };

/**
 * Unpacked layers (bottom first) seen as one filesystem: an upper layer's entry wins, whiteouts
 * (0/0 character devices or `.wh.` files) delete, and an opaque directory (xattr or
 * `.wh..wh..opq`) hides everything below it.
 */
export class LayerStack implements SourceTree {
  /** `opaque` may be shared between stacks over the same layers, and kept between builds (a Map will do). */
  constructor(
    readonly dirs: string[],
    private readonly opaque: OpaqueMemo = new Map<string, Set<string>>(),
  ) {}

  private opaqueDirs(layer: string): Set<string> {
    let set = this.opaque.get(layer);
    if (!set) {
      set = new Set();
      for (const [path, attrs] of xattrsOf(layer)) if (isOpaqueValue(attrs.get(OPAQUE_XATTR))) set.add(path);
      this.opaque.set(layer, set);
    }
    return set;
  }

  private isOpaque(layer: string, rel: string): boolean {
    return (
      this.opaqueDirs(layer).has(rel) ||
      lstatOrUndefined(`${under(layer, rel)}/${OPAQUE_MARKER}`) !== undefined
    );
  }

  private probe(layer: string, parts: string[]): Probe {
    if (parts.length === 0) {
      const stat = lstatOrUndefined(layer);
      return stat
        ? { state: "found", stat, host: layer, opaqueAbove: false }
        : { state: "absent", opaqueAbove: false };
    }
    let opaqueAbove = false;
    for (let k = 0; k < parts.length; k++) {
      const parent = parts.slice(0, k).join("/");
      const prefix = parts.slice(0, k + 1).join("/");
      if (lstatOrUndefined(`${under(layer, parent)}/${WHITEOUT_PREFIX}${parts[k]}`))
        return { state: "blocked" };
      const stat = lstatOrUndefined(`${layer}/${prefix}`);
      if (!stat) return { state: "absent", opaqueAbove };
      if (isWhiteoutDevice(stat)) return { state: "blocked" };
      if (k === parts.length - 1) return { state: "found", stat, host: `${layer}/${prefix}`, opaqueAbove };
      if (!stat.isDirectory()) return { state: "blocked" };
      if (this.isOpaque(layer, prefix)) opaqueAbove = true;
    }
    return { state: "blocked" };
  }

  entry(rel: string): TreeEntry | undefined {
    const parts = rel === "" ? [] : rel.split("/");
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      const p = this.probe(this.dirs[i]!, parts);
      if (p.state === "found") return { stat: p.stat, host: p.host };
      if (p.state === "blocked" || p.opaqueAbove) return undefined;
    }
    return undefined;
  }

  list(rel: string): string[] {
    const parts = rel === "" ? [] : rel.split("/");
    const names = new Set<string>();
    const hidden = new Set<string>();
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      const layer = this.dirs[i]!;
      const p = this.probe(layer, parts);
      if (p.state === "blocked") break;
      if (p.state === "absent") {
        if (p.opaqueAbove) break;
        continue;
      }
      if (!p.stat.isDirectory()) break;
      const whiteouts: string[] = [];
      for (const name of readdirSync(p.host)) {
        if (name === OPAQUE_MARKER || name.startsWith(WHITEOUT_META_PREFIX)) continue;
        if (name.startsWith(WHITEOUT_PREFIX)) {
          whiteouts.push(name.slice(WHITEOUT_PREFIX.length));
          continue;
        }
        const st = lstatOrUndefined(`${p.host}/${name}`);
        if (!st) continue;
        if (isWhiteoutDevice(st)) whiteouts.push(name);
        else if (!hidden.has(name)) names.add(name);
      }
      for (const w of whiteouts) hidden.add(w);
      if (p.opaqueAbove || this.isOpaque(layer, rel)) break;
    }
    return [...names].sort(compareStrings);
  }
}

/**
 * A clean relative path ("" for the root) under a clean absolute directory: path.join would
 * normalise again what is already normal, thousands of times per COPY.
 */
function under(base: string, rel: string): string {
  return rel === "" ? base : `${base}/${rel}`;
}

/** Reads a symlink's target through the tree's host path. */
export function linkTarget(entry: TreeEntry): string {
  return readlinkSync(entry.host);
}
