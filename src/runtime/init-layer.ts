import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INIT_PATH } from "./defaults.js";

/**
 * The layer between the image and the container's own (Docker's "-init" layer): the mount
 * points the runtime needs, so that creating them never writes to the container's layer (or to
 * a build step's) — `diff` and `commit` then show only what the process changed.
 */
export function makeInitLayer(dir: string, opts: { init?: boolean } = {}): void {
  for (const d of ["dev/pts", "dev/shm", "dev/mqueue", "proc", "sys", "etc"])
    mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  for (const f of ["etc/hosts", "etc/hostname", "etc/resolv.conf"])
    writeFileSync(join(dir, f), "", { mode: 0o644 });
  if (opts.init) {
    mkdirSync(join(dir, "sbin"), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, INIT_PATH), "", { mode: 0o755 });
  }
}

/**
 * The init layer containers share, one per store and kind (with or without --init's binary):
 * it holds the same empty mount points and files for every container and is a read-only lower
 * directory, so a container's create makes none of its ten or so inodes, nor its removal
 * deletes them (on this machine's disk, 0.3–1 ms each). Made once, in a temporary directory
 * renamed into place, so a reader never sees it half made.
 */
export function sharedInitLayer(root: string, opts: { init?: boolean } = {}): string {
  const dir = join(root, "init-layers", opts.init ? "with-init" : "plain");
  if (existsSync(dir)) return dir;
  mkdirSync(join(root, "init-layers"), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    makeInitLayer(tmp, opts);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process made it first: theirs is the same.
    if (!existsSync(dir)) throw err;
  }
  return dir;
}
