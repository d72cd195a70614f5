import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";

/*
 * A layer's size as Docker counts it (moby's pkg/directory `Size` over an overlay2 diff
 * directory, which `images`, `history` and `system df` show): the lstat size of everything but
 * directories — a regular file's bytes, a symlink's target length; devices, fifos and whiteouts
 * are 0 — each inode once, so a hard link adds nothing. Not the tar's bytes: headers and padding
 * make a WORKDIR layer 1.5 kB where Docker says 0B.
 *
 * Layers count as they are unpacked or created (`UnpackResult.contentSize`,
 * `CreatedLayer.contentSize`); the walks here are for what is already on disk.
 */

/** Docker's size of an unpacked layer directory. */
export function directorySize(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  walk(dir, (st) => {
    if (st.size === 0) return;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    total += st.size;
  });
  return total;
}

/** What removing a directory takes off its layer's size: the inodes whose every link is inside it. */
export function sizeFreedByRemoving(dir: string): number {
  let total = 0;
  const links = new Map<string, { st: Stats; inside: number }>();
  walk(dir, (st) => {
    if (st.nlink <= 1) {
      total += st.size;
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    const seen = links.get(key) ?? { st, inside: 0 };
    seen.inside++;
    links.set(key, seen);
  });
  for (const { st, inside } of links.values()) if (inside >= st.nlink) total += st.size;
  return total;
}

/**
 * Calls `visit` with the lstat of every entry under `dir` that is not a directory. An entry that
 * goes while the walk runs (a running container's upper directory changes) is skipped.
 */
function walk(dir: string, visit: (st: Stats) => void): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (isGone(err)) return;
    throw err;
  }
  for (const name of names) {
    const full = join(dir, name);
    const st = lstatSync(full, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(full, visit);
    else visit(st);
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
