import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, posix } from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createLayerFromDirectory } from "../layer/create.js";
import { type TarEntry, TarReader } from "../layer/tar.js";
import type { Containers } from "./containers.js";
import { RuntimeError } from "./errors.js";
import { withContainerLock } from "./lock.js";
import { isMounted, mountOverlay, unmount } from "./overlay.js";
import type { ContainerRecord } from "./records.js";
import { resolveInRoot } from "./rootfs.js";
import { hostId, ownersInside } from "./userns.js";

/** Runs fn with the container's merged tree mounted (mounting a stopped container's for the call). */
export async function withRootfs<T>(
  containers: Containers,
  input: string,
  fn: (root: string, rec: ContainerRecord) => Promise<T>,
): Promise<T> {
  const rec = containers.find(input);
  const paths = containers.paths(rec.id);
  return withContainerLock(containers.db, rec.id, async () => {
    const mountedHere = !isMounted(paths.merged);
    if (mountedHere) {
      const lowers = containers.lowerDirs(rec);
      await mountOverlay({ lowers, upper: paths.upper, work: paths.work, target: paths.merged });
    }
    try {
      return await fn(paths.merged, rec);
    } finally {
      if (mountedHere) await unmount(paths.merged);
    }
  });
}

/** `export`: a tar of the container's whole filesystem as it sees it (the merged tree). */
export async function exportContainer(containers: Containers, input: string, out: Writable): Promise<void> {
  await withRootfs(containers, input, async (root, rec) => {
    const { stream, result } = createLayerFromDirectory(root, {
      compression: "none",
      ...(rec.settings.idMap ? { owners: ownersInside(rec.settings.idMap) } : {}),
    });
    await pipeline(stream, out);
    await result;
  });
}

function tarCreate(dir: string, name: string): Readable {
  const child = spawn("tar", ["-c", "-C", dir, "--numeric-owner", "--", name], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  // Piped at once: a child's stdout read later, after the child exited, lost its data here.
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  let ended = 0;
  const finish = (code: number | null) => {
    if (code !== 0) out.destroy(new RuntimeError(`tar: ${err.trim()}`));
    else out.end();
  };
  child.stdout.on("end", () => {
    if (++ended === 2) finish(0);
  });
  child.on("close", (code) => {
    if (code !== 0) finish(code);
    else if (++ended === 2) finish(0);
  });
  return out;
}

/**
 * `cp CONTAINER:SRC DEST`: a tar of SRC (symlinks in its path resolved inside the container)
 * to a stream (`-`), or unpacked at DEST on the host: into DEST when it is a directory, else as DEST.
 */
export async function copyFromContainer(
  containers: Containers,
  input: string,
  src: string,
  dest: string | Writable,
): Promise<void> {
  await withRootfs(containers, input, async (root) => {
    const parent = resolveInRoot(root, posix.dirname(src));
    const name = posix.basename(src) === "/" || src === "/" ? "." : posix.basename(src);
    try {
      lstatSync(join(parent, name));
    } catch {
      throw new RuntimeError(`Could not find the file ${src} in container ${input}`);
    }
    const tar = tarCreate(parent, name);
    if (typeof dest !== "string") return pipeline(tar, dest);
    const destDir = (await stat(dest).catch(() => undefined))?.isDirectory() ? dest : undefined;
    if (destDir) return extractOnHost(tar, destDir);
    // A new name: unpack beside it, then rename into place.
    await mkdir(dirname(dest), { recursive: true });
    const tmp = await mkdtemp(join(dirname(dest), ".berth-cp-"));
    try {
      await extractOnHost(tar, tmp);
      await rename(join(tmp, name), dest);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

function extractOnHost(tar: Readable, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("tar", ["-x", "-C", dir, "--no-same-owner", "--no-overwrite-dir"], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    tar.on("error", reject);
    tar.pipe(child.stdin);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new RuntimeError(`tar: ${err.trim()}`))));
  });
}

/**
 * `cp SRC CONTAINER:DEST` (SRC a host path, or `-` for a tar stream): every entry is written
 * below DEST with each directory of its path resolved inside the container's root, so a link in
 * the container (or in the archive) cannot lead a write onto the host.
 */
export async function copyToContainer(
  containers: Containers,
  input: string,
  src: string | Readable,
  dest: string,
): Promise<void> {
  await withRootfs(containers, input, async (root, rec) => {
    const destHost = resolveInRoot(root, dest);
    const destIsDir = existsSync(destHost) && lstatSync(destHost).isDirectory();
    let tar: Readable;
    let rename: ((name: string) => string) | undefined;
    if (typeof src === "string") {
      if (!existsSync(src)) throw new RuntimeError(`could not find the file ${src}`);
      const name = basename(src);
      tar = tarCreate(dirname(src), name);
      // `cp file ctr:/new-name`: the entry takes the destination's name.
      if (!destIsDir)
        rename = (n) =>
          n === name || n.startsWith(`${name}/`) ? posix.basename(dest) + n.slice(name.length) : n;
    } else {
      tar = src;
      if (!destIsDir) throw new RuntimeError(`destination "${dest}" must be a directory`);
    }
    const base = destIsDir ? dest : posix.dirname(dest);
    // In a user namespace, what is copied in belongs to the container's root (Docker's rule for cp).
    const map = rec.settings.idMap;
    const owner = map
      ? ([hostId(map.uidMappings, 0) ?? 0, hostId(map.gidMappings, 0) ?? 0] as const)
      : undefined;
    await extractInRoot(root, base, tar, rename, owner);
  });
}

function extractInRoot(
  root: string,
  base: string,
  tar: Readable,
  rename?: (n: string) => string,
  owner?: readonly [number, number],
): Promise<void> {
  let fd: number | undefined;
  const hostPath = (name: string) => {
    const clean = posix.normalize(`/${name}`).replace(/\/+$/, "");
    const rel = posix.join(base, clean);
    const parent = resolveInRoot(root, posix.dirname(rel));
    return join(parent, posix.basename(rel));
  };
  const clear = (p: string) => {
    try {
      const st = lstatSync(p);
      if (!st.isDirectory()) rmSync(p, { force: true });
    } catch {}
  };
  let pendingMeta: { path: string; entry: TarEntry; final?: string } | undefined;
  const finishMeta = () => {
    if (!pendingMeta) return;
    const { path, entry, final } = pendingMeta;
    if (owner) lchownSync(path, owner[0], owner[1]);
    if (entry.type !== "symlink") chmodSync(path, entry.mode & 0o7777);
    try {
      lutimesSync(path, entry.mtime, entry.mtime);
    } catch {}
    if (final) {
      clear(final);
      renameSync(path, final);
    }
    pendingMeta = undefined;
  };
  const reader = new TarReader({
    entry(entry) {
      finishMeta();
      const name = rename ? rename(entry.name.replace(/^\.\//, "")) : entry.name;
      if (name === "" || name === "." || name === "./") return;
      const path = hostPath(name);
      if (path === root) return;
      switch (entry.type) {
        case "directory":
          if (!existsSync(path)) mkdirSync(path, { recursive: false });
          break;
        case "file": {
          // Written under a temporary name beside it, renamed over it once whole: a copy
          // interrupted part-way leaves no partial file under the final name.
          const partial = join(dirname(path), `.berth-cp-${process.pid}-${randomBytes(6).toString("hex")}`);
          fd = openSync(partial, "wx", entry.mode & 0o7777);
          pendingMeta = { path: partial, entry, final: path };
          return;
        }
        case "symlink":
          clear(path);
          symlinkSync(entry.linkname, path);
          break;
        case "link":
          clear(path);
          linkSync(hostPath(rename ? rename(entry.linkname) : entry.linkname), path);
          break;
        default:
          return;
      }
      pendingMeta = { path, entry };
    },
    data(chunk) {
      if (fd !== undefined) writeSync(fd, chunk);
    },
    entryEnd() {
      if (fd !== undefined) {
        closeSync(fd);
        fd = undefined;
      }
      finishMeta();
    },
  });
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => {
      // A file being written when the copy failed goes: nothing partial stays.
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      if (pendingMeta?.final) rmSync(pendingMeta.path, { force: true });
      reject(err);
    };
    tar.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        tar.destroy();
        fail(err);
      }
    });
    tar.on("end", () => {
      try {
        reader.end();
        resolve();
      } catch (err) {
        fail(err);
      }
    });
    tar.on("error", fail);
  });
}
