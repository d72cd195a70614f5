import { createHash } from "node:crypto";
import {
  chmodSync,
  constants,
  createReadStream,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  utimesSync,
} from "node:fs";
import { copyFile, type FileHandle, lchown, lutimes, open, readFile, symlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { mknod, splitDevice } from "../layer/special-files.js";
import { compareStrings } from "../layer/tar.js";
import { parseGroup, parsePasswd } from "../runtime/user.js";
import { BuildContextError, BuildError } from "./errors.js";
import type { CopyStep } from "./evaluate.js";
import { shellPatternRegex } from "./expand.js";
import type { Location } from "./instructions.js";
import type { SourceTree, TreeEntry } from "./trees.js";

/**
 * COPY and ADD without a container: the sources are resolved in their tree (globs, symlinks,
 * .dockerignore), planned as the entries the new layer holds, hashed for the cache key
 * (paths, types, modes, owners, contents and link targets, never times), then written into the
 * layer's directory. The rules follow Docker and buildah: copied files keep their mode and
 * time; they belong to root when they come from the context and keep their owners when they come
 * from a stage or image; `--chown` owns everything the step writes, `--chmod` sets the mode of
 * every copied file and directory; directories the step creates are 0755; directories that
 * exist below keep their metadata.
 */

export interface CopySource {
  tree: SourceTree;
  /** The build context: paths and symlinks may not leave it. A stage or image resolves them in its own root. */
  confine: boolean;
  keepOwners: boolean;
  /** For messages: "the build context", "stage builder". */
  what: string;
}

export type EntryType = "dir" | "file" | "symlink" | "fifo" | "char" | "block";

export interface PlannedEntry {
  /** Relative to the image's root. */
  dest: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  rdev?: number;
  /** Host file to copy (a file entry), and its size. */
  source?: string;
  size?: number;
  /** For a build context's file: what identifies its content while it is unchanged (device, inode, size, times). */
  identity?: string;
  /** Inline content (a COPY heredoc, an ADD download written elsewhere is a `source`). */
  data?: string;
  target?: string;
  /** A directory that exists below: repeated with its own metadata so the layer can hold what goes in it. */
  existing?: boolean;
}

export interface CopyPlan {
  entries: PlannedEntry[];
}

const MAX_LINKS = 40;

/** Walks a path in a tree following symlinks (the last one only if asked). */
export function resolveTreePath(
  tree: SourceTree,
  rel: string,
  opts: { followFinal: boolean; confine: boolean; what: string; original: string; loc?: Location },
): { rel: string; entry: TreeEntry | undefined } {
  const pending = rel.split("/").filter((p) => p !== "" && p !== ".");
  const done: string[] = [];
  let links = 0;
  const outside = () =>
    new BuildContextError(
      `${JSON.stringify(opts.original)} is reached through a symlink that leaves ${opts.what}`,
      opts.loc,
    );
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      if (done.length === 0) {
        if (opts.confine) throw outside();
        continue;
      }
      done.pop();
      continue;
    }
    const path = [...done, part].join("/");
    const e = tree.entry(path);
    if (e?.stat.isSymbolicLink() && (pending.length > 0 || opts.followFinal)) {
      if (++links > MAX_LINKS)
        throw new BuildError(
          `too many levels of symbolic links in ${JSON.stringify(opts.original)}`,
          opts.loc,
        );
      const target = readlinkSync(e.host);
      if (target.startsWith("/")) {
        if (opts.confine) throw outside();
        done.length = 0;
      }
      pending.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
      continue;
    }
    if (e && !e.stat.isDirectory() && pending.length > 0)
      return { rel: [...done, part, ...pending].join("/"), entry: undefined };
    done.push(part);
  }
  const final = done.join("/");
  return { rel: final, entry: tree.entry(final) };
}

export function hasWildcard(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

/** A source as written, made relative to the tree's root; `../` out of the context is refused. */
function normalizeSource(src: string, source: CopySource, loc: Location): string {
  const abs = src.startsWith("/");
  let rel = posix.normalize(abs ? src.slice(1) || "." : src);
  if (rel === ".." || rel.startsWith("../")) {
    if (source.confine) throw new BuildContextError(`forbidden path outside the build context: ${src}`, loc);
    rel = posix.normalize(`/${rel}`).slice(1);
  }
  if (rel === "." || rel === "./") return "";
  return rel.replace(/\/+$/, "");
}

/** Glob matching one path component at a time, as filepath.Match does (`*` never crosses `/`). */
function glob(tree: SourceTree, pattern: string, source: CopySource, loc: Location): string[] {
  let candidates = [""];
  for (const part of pattern.split("/").filter((p) => p !== "")) {
    const next: string[] = [];
    for (const c of candidates) {
      if (!hasWildcard(part)) {
        next.push(c === "" ? part : `${c}/${part}`);
        continue;
      }
      const dir = resolveTreePath(tree, c, {
        followFinal: true,
        confine: source.confine,
        what: source.what,
        original: pattern,
        loc,
      });
      if (!dir.entry?.stat.isDirectory()) continue;
      const re = shellPatternRegex(part, true, true);
      for (const name of tree.list(dir.rel))
        if (re.test(name)) next.push(dir.rel === "" ? name : `${dir.rel}/${name}`);
    }
    candidates = next;
  }
  return candidates;
}

export interface Ids {
  uid: number;
  gid: number;
}

/**
 * `--chown` against the destination's /etc/passwd and /etc/group, as BuildKit reads it: a
 * number is the uid and (without a group) the gid too; a name takes the user's uid and gid.
 */
export function resolveChown(spec: string, lower: SourceTree, loc: Location): Ids {
  const [user = "", group] = spec.split(":");
  const read = (path: string): string => {
    const r = resolveTreePath(lower, path, {
      followFinal: true,
      confine: false,
      what: "the image",
      original: path,
    });
    if (!r.entry?.stat.isFile() || r.entry.stat.size > 16 * 1024 * 1024) return "";
    return readFileSync(r.entry.host, "utf8");
  };
  let uid = 0;
  let gid = 0;
  if (/^\d+$/.test(user)) {
    uid = Number(user);
    gid = uid;
  } else if (user !== "") {
    const entry = parsePasswd(read("etc/passwd")).find((p) => p.name === user);
    if (!entry) throw new BuildError(`unable to find user ${user}: no matching entries in passwd file`, loc);
    uid = entry.uid;
    gid = entry.gid;
  }
  if (group !== undefined && group !== "") {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const g = parseGroup(read("etc/group")).find((x) => x.name === group);
      if (!g) throw new BuildError(`unable to find group ${group}: no matching entries in group file`, loc);
      gid = g.gid;
    }
  }
  return { uid, gid };
}

export interface PlanOptions {
  /** The image the step writes on, for where the destination is and what exists already. */
  lower: SourceTree;
  chown?: Ids;
  /** Times of directories the step creates and of inline files. */
  nowMs: number;
  loc: Location;
  /** Extra roots the executor prepared (an ADD download, an unpacked ADD archive). */
  extra?: { name: string; tree: SourceTree; rel: string; keepOwners: boolean; contentsOnly: boolean }[];
}

interface Root {
  name: string;
  tree: SourceTree;
  rel: string;
  entry: TreeEntry;
  keepOwners: boolean;
  contentsOnly: boolean;
  /** From the build context, whose file digests may be remembered between builds. */
  context: boolean;
}

/** What a COPY or ADD step will write, sorted so that directories come before their contents. */
export function planCopy(step: CopyStep, source: CopySource | undefined, opts: PlanOptions): CopyPlan {
  const roots: Root[] = [];
  let wildcard = false;
  for (const src of step.sources) {
    if (/^https?:\/\//.test(src)) continue; // prepared by the executor as an extra root
    if (!source) throw new BuildError(`no source for ${src}`, opts.loc);
    const rel = normalizeSource(src, source, opts.loc);
    const matches = hasWildcard(rel) ? glob(source.tree, rel, source, opts.loc) : [rel];
    if (hasWildcard(rel)) wildcard = true;
    for (const m of matches) {
      const r = resolveTreePath(source.tree, m, {
        followFinal: true,
        confine: source.confine,
        what: source.what,
        original: src,
        loc: opts.loc,
      });
      if (!r.entry) {
        if (hasWildcard(rel)) continue;
        const where = source.confine
          ? " (is it in the build context, and not excluded by .dockerignore?)"
          : ` in ${source.what}`;
        throw new BuildContextError(
          `failed to compute cache key: ${JSON.stringify(`/${m}`)}: not found${where}`,
          opts.loc,
        );
      }
      roots.push({
        name: posix.basename(m) || posix.basename(r.rel),
        tree: source.tree,
        rel: r.rel,
        entry: r.entry,
        keepOwners: source.keepOwners,
        contentsOnly: r.entry.stat.isDirectory(),
        context: source.confine,
      });
    }
  }
  for (const x of opts.extra ?? []) {
    const entry = x.tree.entry(x.rel);
    if (entry) roots.push({ ...x, entry, context: false });
  }
  const total = roots.length + step.inline.length;
  const destWritten = step.dest;
  const destPath = destWritten.replace(/^\/+/, "").replace(/\/+$/, "");
  const destResolved = resolveTreePath(opts.lower, destPath, {
    followFinal: true,
    confine: false,
    what: "the image",
    original: destWritten,
  });
  const destIsDir =
    destWritten.endsWith("/") || total > 1 || wildcard || destResolved.entry?.stat.isDirectory() === true;
  const destRel = destResolved.rel;

  const planned = new Map<string, PlannedEntry>();
  const owner = (st: { uid: number; gid: number }, keep: boolean): Ids =>
    opts.chown ?? (keep ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
  const modeOf = (st: { mode: number }, type: EntryType): number =>
    step.chmod !== undefined && type !== "symlink" ? step.chmod : st.mode & 0o7777;

  const addEntry = (dest: string, e: TreeEntry, keep: boolean, context: boolean) => {
    const st = e.stat;
    const type: EntryType = st.isDirectory()
      ? "dir"
      : st.isSymbolicLink()
        ? "symlink"
        : st.isFile()
          ? "file"
          : st.isFIFO()
            ? "fifo"
            : st.isCharacterDevice()
              ? "char"
              : st.isBlockDevice()
                ? "block"
                : "file";
    if (st.isSocket()) return;
    const ids = owner(st, keep);
    planned.set(dest, {
      dest,
      type,
      mode: modeOf(st, type),
      ...ids,
      mtimeMs: st.mtimeMs,
      ...(type === "file" ? { source: e.host, size: st.size } : {}),
      ...(type === "file" && context
        ? { identity: `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` }
        : {}),
      ...(type === "symlink" ? { target: readlinkSync(e.host) } : {}),
      ...(type === "char" || type === "block" ? { rdev: st.rdev } : {}),
    });
  };

  const walk = (root: Root, rel: string, dest: string) => {
    for (const name of root.tree.list(rel)) {
      const child = rel === "" ? name : `${rel}/${name}`;
      const e = root.tree.entry(child);
      if (!e) continue;
      const d = dest === "" ? name : `${dest}/${name}`;
      addEntry(d, e, root.keepOwners, root.context);
      if (e.stat.isDirectory()) walk(root, child, d);
    }
  };

  const directoryFor = (dest: string) => {
    if (dest === "" || planned.has(dest)) return;
    const below = opts.lower.entry(dest);
    if (below?.stat.isDirectory()) {
      const st = below.stat;
      planned.set(dest, {
        dest,
        type: "dir",
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtimeMs: st.mtimeMs,
        existing: true,
      });
    } else {
      planned.set(dest, {
        dest,
        type: "dir",
        mode: 0o755,
        ...(opts.chown ?? { uid: 0, gid: 0 }),
        mtimeMs: opts.nowMs,
      });
    }
  };

  for (const root of roots) {
    if (root.contentsOnly) {
      directoryFor(destRel);
      walk(root, root.rel, destRel);
    } else {
      const d = destIsDir ? join2(destRel, root.name) : destRel;
      addEntry(d, root.entry, root.keepOwners, root.context);
    }
  }
  for (const inline of step.inline) {
    const d = destIsDir ? join2(destRel, inline.name) : destRel;
    planned.set(d, {
      dest: d,
      type: "file",
      mode: step.chmod ?? 0o644,
      ...(opts.chown ?? { uid: 0, gid: 0 }),
      mtimeMs: opts.nowMs,
      data: inline.content,
    });
  }
  if (planned.size === 0)
    directoryFor(destIsDir ? destRel : posix.dirname(destRel) === "." ? "" : posix.dirname(destRel));

  // Parents: those that exist below keep their metadata; missing ones are created.
  for (const dest of [...planned.keys()]) {
    const parts = dest.split("/");
    for (let i = 1; i < parts.length; i++) directoryFor(parts.slice(0, i).join("/"));
  }
  const entries = [...planned.values()].sort((a, b) => comparePaths(a.dest, b.dest));
  return { entries };
}

function join2(a: string, b: string): string {
  return a === "" ? b : `${a}/${b}`;
}

/** Depth-first order: a directory before everything in it. */
function comparePaths(a: string, b: string): number {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = compareStrings(pa[i]!, pb[i]!);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/**
 * The content hash of a plan for the cache key: every entry the step writes (not the
 * directories it only passes through), with its file's sha256, never a time.
 */
export async function hashPlan(plan: CopyPlan, known?: DigestMemo): Promise<string> {
  const h = createHash("sha256");
  const files = plan.entries.filter((e) => e.type === "file" && e.source !== undefined);
  const digests = new Map<string, string>();
  const remembered = known?.get(files.filter((e) => e.identity).map((e) => e.source!)) ?? new Map();
  const learned: { path: string; identity: string; digest: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const e = files[next++]!;
      const memo = remembered.get(e.source!);
      if (memo && memo.identity === e.identity) {
        digests.set(e.dest, memo.digest);
        continue;
      }
      const digest = await fileDigest(e.source!);
      digests.set(e.dest, digest);
      if (e.identity) learned.push({ path: e.source!, identity: e.identity, digest });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  if (learned.length > 0) known?.put(learned);
  for (const e of plan.entries) {
    if (e.existing) continue;
    let content = "";
    if (e.type === "file") content = e.data !== undefined ? sha256(e.data) : digests.get(e.dest)!;
    else if (e.type === "symlink") content = e.target!;
    else if (e.rdev !== undefined) content = String(e.rdev);
    h.update(`${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${JSON.stringify(e.dest)} ${content}\n`);
  }
  return `sha256:${h.digest("hex")}`;
}

/**
 * Files taken one directory after another, so that the writers in flight create files in
 * different directories (the kernel serialises creations in one directory).
 */
function interleaveByDirectory(entries: PlannedEntry[]): PlannedEntry[] {
  const groups = new Map<string, PlannedEntry[]>();
  for (const e of entries) {
    const slash = e.dest.lastIndexOf("/");
    const dir = slash < 0 ? "" : e.dest.slice(0, slash);
    const g = groups.get(dir);
    if (g) g.push(e);
    else groups.set(dir, [e]);
  }
  const lists = [...groups.values()];
  const out: PlannedEntry[] = [];
  for (let i = 0; out.length < entries.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

/** Digests of build-context files remembered between builds, by path, valid while the file's identity is the same. */
export interface DigestMemo {
  get(paths: string[]): Map<string, { identity: string; digest: string }>;
  put(entries: { path: string; identity: string; digest: string }[]): void;
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

async function fileDigest(path: string): Promise<string> {
  const st = lstatSync(path);
  if (st.size < 1024 * 1024) return createHash("sha256").update(readFileSync(path)).digest("hex");
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * Writes a plan into an empty layer directory. With `clampMs` (SOURCE_DATE_EPOCH), no time is
 * later than it. Directories are made first, then files, links and nodes a few at a time (creating
 * files is kernel work, and the threads of libuv's pool spread it over the cores), then the
 * directories' metadata, once their contents are in.
 */
export async function writePlan(plan: CopyPlan, dir: string, clampMs?: number): Promise<void> {
  const time = (ms: number) => (clampMs !== undefined && ms > clampMs ? clampMs : ms) / 1000;
  const dirs = plan.entries.filter((e) => e.type === "dir");
  for (const e of dirs) mkdirSync(join(dir, e.dest), { recursive: true, mode: 0o700 });
  const rest = interleaveByDirectory(plan.entries.filter((e) => e.type !== "dir"));
  let next = 0;
  const worker = async () => {
    while (next < rest.length) {
      const e = rest[next++]!;
      const path = join(dir, e.dest);
      const t = time(e.mtimeMs);
      if (e.type === "file") {
        let fh: FileHandle;
        if (e.data !== undefined || (e.size ?? 0) < 1024 * 1024) {
          const data = e.data !== undefined ? Buffer.from(e.data) : await readFile(e.source!);
          fh = await open(path, "wx", 0o600);
          try {
            await fh.writeFile(data);
          } catch (err) {
            await fh.close();
            throw err;
          }
        } else {
          await copyFile(e.source!, path, constants.COPYFILE_EXCL);
          fh = await open(path, "r+");
        }
        try {
          await fh.chown(e.uid, e.gid);
          await fh.chmod(e.mode); // after chown, which clears setuid
          await fh.utimes(t, t);
        } finally {
          await fh.close();
        }
      } else if (e.type === "symlink") {
        await symlink(e.target!, path);
        await lchown(path, e.uid, e.gid);
        await lutimes(path, t, t);
      } else {
        const { major, minor } = splitDevice(e.rdev ?? 0);
        mknod(path, e.type === "fifo" ? "p" : e.type === "char" ? "c" : "b", e.mode, major, minor);
        lchownSync(path, e.uid, e.gid);
        chmodSync(path, e.mode);
        utimesSync(path, t, t);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, rest.length) }, worker));
  for (const e of dirs.reverse()) {
    const path = join(dir, e.dest);
    lchownSync(path, e.uid, e.gid);
    chmodSync(path, e.mode);
    utimesSync(path, time(e.mtimeMs), time(e.mtimeMs));
  }
}
