import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { xattrsOf } from "../layer/special-files.js";
import { compareStrings } from "../layer/tar.js";
import { isOpaqueValue, isWhiteoutDevice, OPAQUE_XATTR } from "../layer/whiteouts.js";

export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

async function lstatOr(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}

/** Whether `rel` exists in the stack of lower directories (topmost first), honouring their whiteouts. */
async function inLowers(lowers: string[], rel: string): Promise<boolean> {
  for (const dir of lowers) {
    const st = await lstatOr(join(dir, rel));
    if (st) return !isWhiteoutDevice(st);
  }
  return false;
}

/**
 * `docker diff` from a container's upper directory: a whiteout is a deletion (D), an entry the
 * layers below have is a change (C), anything else was added (A), and so is everything under an
 * added directory. Sorted by path, as Docker prints them.
 */
export async function containerChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const xattrs = xattrsOf(upper);
  async function walk(rel: string, added: boolean): Promise<void> {
    const names = (await readdir(join(upper, rel))).sort(compareStrings);
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(upper, path));
      if (isWhiteoutDevice(st)) {
        out.push({ kind: "D", path: `/${path}` });
        continue;
      }
      const isNew = added || !(await inLowers(lowers, path));
      out.push({ kind: isNew ? "A" : "C", path: `/${path}` });
      if (st.isDirectory()) {
        // An opaque directory replaced the lower one whole: what it holds is new.
        const opaque = isOpaqueValue(xattrs.get(path)?.get(OPAQUE_XATTR));
        await walk(path, isNew || opaque);
      }
    }
  }
  await walk("", false);
  return out.sort((a, b) => compareStrings(a.path, b.path));
}
