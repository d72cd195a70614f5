import { lstatSync, readlinkSync } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { RuntimeError } from "./errors.js";

const MAX_LINKS = 40;

/**
 * The host path of `path` inside a container's root filesystem, following symlinks as the
 * container would see them: an absolute link target is taken from `root`, and `..` never climbs
 * above it. So an image whose /etc/passwd links to /../../etc/shadow reads its own file, never the
 * host's. The last component need not exist. Synchronous: a few lstat calls, and the tar
 * writers that need it work synchronously.
 */
export function resolveInRoot(root: string, path: string): string {
  let links = 0;
  const pending = posix.normalize(`/${path}`).split("/").filter(Boolean);
  const done: string[] = [];
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "." || part === "") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let isLink = false;
    try {
      isLink = lstatSync(host).isSymbolicLink();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
    }
    if (isLink) {
      if (++links > MAX_LINKS) throw new RuntimeError(`too many levels of symbolic links in ${path}`);
      const target = readlinkSync(host);
      if (target.startsWith("/")) done.length = 0;
      pending.unshift(...target.split("/").filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

/** A text file of the container (such as /etc/passwd), or undefined when it has none. */
export async function readFileInRoot(root: string, path: string): Promise<string | undefined> {
  try {
    const host = resolveInRoot(root, path);
    const st = await lstat(host);
    // A device or a FIFO in an image must not hang or flood the reader.
    if (!st.isFile() || st.size > 16 * 1024 * 1024) return undefined;
    return await readFile(host, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}
