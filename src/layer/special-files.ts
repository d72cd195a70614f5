import { execFileSync, spawnSync } from "node:child_process";
import { lstatSync, type Stats } from "node:fs";
import { relative } from "node:path";
import { LayerToolError, MissingToolError } from "./errors.js";

/**
 * What Node's fs cannot do, done through Debian's binaries: device nodes (coreutils `mknod`) and
 * extended attributes (`setfattr` and `getfattr` from the `attr` package). These are rare in
 * layers (whiteouts, /dev entries, file capabilities), so a process per call is affordable.
 */

export type NodeKind = "c" | "b" | "p";

export function mknod(path: string, kind: NodeKind, mode: number, major = 0, minor = 0): void {
  const args = ["-m", (mode & 0o7777).toString(8), path, kind];
  if (kind !== "p") args.push(String(major), String(minor));
  run("mknod", "coreutils", "to create device nodes and whiteouts", args);
}

/** Sets one extended attribute on `path` itself (never a symlink's target). */
export function setXattr(path: string, name: string, value: Uint8Array): void {
  const encoded = `0s${Buffer.from(value).toString("base64")}`;
  run("setfattr", "attr", "to set extended attributes", ["-h", "-n", name, "-v", encoded, path]);
}

/**
 * Every extended attribute under `root` (symlinks not followed), keyed by path relative to root
 * ("" for root itself); files without attributes are absent. One `getfattr -R` for the tree.
 */
export function readXattrTree(root: string): Map<string, Map<string, Buffer>> {
  const result = spawnSync(
    "getfattr",
    ["-R", "-P", "-h", "-d", "-m", "-", "-e", "base64", "--absolute-names", "--", root],
    { maxBuffer: 1024 * 1024 * 1024 },
  );
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === "ENOENT")
      throw new MissingToolError("getfattr", "attr", "to read extended attributes");
    throw result.error;
  }
  // A non-zero exit means some file could not be read (a filesystem without xattrs): what was
  // printed is still right for the others.
  const out = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of result.stdout.toString("latin1").split("\n")) {
    if (line.startsWith("# file: ")) {
      const path = decodeGetfattr(line.slice("# file: ".length));
      current = new Map();
      out.set(relative(root, path), current);
    } else if (current && line !== "") {
      const eq = line.indexOf("=");
      const name = decodeGetfattr(eq < 0 ? line : line.slice(0, eq));
      const value = eq < 0 ? "" : line.slice(eq + 1);
      current.set(name, value.startsWith("0s") ? Buffer.from(value.slice(2), "base64") : Buffer.alloc(0));
    }
  }
  return out;
}

/** getfattr escapes backslashes and unprintable bytes as \ooo; the rest is raw bytes. */
function decodeGetfattr(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c && s[i + 1] === "\\") {
      bytes.push(0x5c);
      i++;
    } else if (c === 0x5c && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function run(cmd: string, debianPackage: string, purpose: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") throw new MissingToolError(cmd, debianPackage, purpose);
    const detail = e.stderr?.toString().trim();
    throw new LayerToolError(`${cmd} ${args.join(" ")} failed${detail ? `: ${detail}` : ""}`);
  }
}

/** glibc's dev_t encoding: 12 bits of major and 20 of minor, split across the word. */
export function splitDevice(rdev: number): { major: number; minor: number } {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

/** Every xattr under `root`; without root privileges a missing getfattr only means no user.* attributes, which layers rarely carry. */
export function xattrsOf(root: string): Map<string, Map<string, Buffer>> {
  try {
    return readXattrTree(root);
  } catch (err) {
    if (err instanceof MissingToolError && process.getuid?.() !== 0) return new Map();
    throw err;
  }
}

/** Without an exception for a missing path: builds probe many absent whiteout names, and an Error with its stack per miss costs more than the lstat. */
export function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}
