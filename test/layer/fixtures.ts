import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { gzipSync } from "node:zlib";
import { type Header, pack } from "tar-stream";

/** A tar entry for tar-stream's packer, which builds test layers independently of the code under test. */
export type Entry = Partial<Header> & { name: string; body?: string | Buffer };

export async function makeTar(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of p) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ mode: 0o644, ...header }, body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export type Compressed = "none" | "gzip" | "zstd";
export const COMPRESSIONS: Compressed[] = ["none", "gzip", "zstd"];

export function compress(tar: Buffer, kind: Compressed): Buffer {
  if (kind === "gzip") return gzipSync(tar);
  if (kind === "zstd") return execFileSync("zstd", ["-q", "-c"], { input: tar, maxBuffer: 1 << 30 });
  return tar;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export const isRoot = process.getuid?.() === 0;

const created: string[] = [];
after(async () => {
  for (const d of created) await rm(d, { recursive: true, force: true });
});

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "berth-layer-test-"));
  created.push(d);
  return d;
}

/** A layer directory `dest` with a sentinel sibling `outside` that must stay as it was. */
export async function sandbox(): Promise<{ base: string; dest: string; outside: string }> {
  const base = await tempDir();
  const dest = join(base, "layer");
  const outside = join(base, "outside");
  await mkdir(dest);
  await mkdir(outside);
  return { base, dest, outside };
}

export interface Node {
  type: "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "other";
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  content?: string;
  link?: string;
  /** Index of the first path sharing this inode, for hard links. */
  inode: string;
  xattrs?: Record<string, string>;
}

/** Everything observable about a tree, for comparing two of them (root excluded). */
export function snapshot(root: string, opts: { xattrs?: boolean } = {}): Record<string, Node> {
  const out: Record<string, Node> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(root, path);
      const st = lstatSync(full);
      const inode = inodes.get(st.ino) ?? path;
      if (!st.isDirectory()) inodes.set(st.ino, inode);
      const node: Node = {
        type: st.isFile()
          ? "file"
          : st.isDirectory()
            ? "dir"
            : st.isSymbolicLink()
              ? "symlink"
              : st.isCharacterDevice()
                ? "char"
                : st.isBlockDevice()
                  ? "block"
                  : st.isFIFO()
                    ? "fifo"
                    : "other",
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: Math.floor(st.mtimeMs / 1000),
        inode: st.isDirectory() ? path : inode,
      };
      if (node.type === "symlink") {
        node.link = readlinkSync(full);
        node.mode = 0; // symlink modes mean nothing on Linux
      }
      if (node.type === "file") node.content = createHash("sha256").update(readFileSync(full)).digest("hex");
      if (opts.xattrs && node.type !== "symlink") {
        const dump = execFileSync("getfattr", [
          "-h",
          "-d",
          "-m",
          "-",
          "-e",
          "base64",
          "--absolute-names",
          full,
        ]);
        const attrs: Record<string, string> = {};
        for (const line of dump.toString().split("\n")) {
          const eq = line.indexOf("=");
          if (line.startsWith("#") || eq < 0) continue;
          attrs[line.slice(0, eq)] = line.slice(eq + 1);
        }
        if (Object.keys(attrs).length > 0) node.xattrs = attrs;
      }
      out[path] = node;
      if (st.isDirectory()) walk(path);
    }
  };
  walk("");
  return out;
}
