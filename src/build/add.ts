import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { unpackLayer } from "../layer/unpack.js";
import { type CopySource, hasWildcard, resolveTreePath } from "./copy.js";
import { BuildError } from "./errors.js";
import type { CopyStep } from "./evaluate.js";
import type { Location } from "./instructions.js";
import { DirectoryTree, type SourceTree } from "./trees.js";

/**
 * What ADD does beyond COPY: a local tar (plain, gzip, zstd, bzip2 or xz) is unpacked into the
 * destination, and an http(s) URL is downloaded (as a file of mode 0600 named after the URL's
 * last path segment, with the server's Last-Modified time), checked against --checksum.
 */

export interface AddRoot {
  name: string;
  tree: SourceTree;
  rel: string;
  keepOwners: boolean;
  contentsOnly: boolean;
}

export async function prepareAdd(
  step: CopyStep,
  source: CopySource | undefined,
  scratch: string,
  loc: Location,
): Promise<{ sources: string[]; extra: AddRoot[] }> {
  const sources: string[] = [];
  const extra: AddRoot[] = [];
  let n = 0;
  for (const src of step.sources) {
    const dir = join(scratch, `add-${n++}`);
    if (/^https?:\/\//.test(src)) {
      await mkdir(dir, { recursive: true });
      const name = await download(src, dir, step.checksum, loc);
      extra.push({ name, tree: new DirectoryTree(dir), rel: name, keepOwners: false, contentsOnly: false });
      continue;
    }
    if (!source || hasWildcard(src)) {
      sources.push(src);
      continue;
    }
    const rel = posix.normalize(src.replace(/^\/+/, "") || ".");
    const r = resolveTreePath(source.tree, rel === "." ? "" : rel, {
      followFinal: true,
      confine: source.confine,
      what: source.what,
      original: src,
      loc,
    });
    const kind = r.entry?.stat.isFile() ? await archiveKind(r.entry.host) : undefined;
    if (!kind) {
      sources.push(src);
      continue;
    }
    await mkdir(dir, { recursive: true });
    await unpackArchive(r.entry!.host, kind, dir);
    extra.push({
      name: posix.basename(rel),
      tree: new DirectoryTree(dir),
      rel: "",
      keepOwners: true,
      contentsOnly: true,
    });
  }
  return { sources, extra };
}

type ArchiveKind = "tar" | "gzip" | "zstd" | "bzip2" | "xz";

/** A tar, by its first bytes: compressed, or with the ustar magic at offset 257. */
async function archiveKind(path: string): Promise<ArchiveKind | undefined> {
  const fh = await open(path, "r");
  const head = Buffer.alloc(512);
  try {
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const b = head.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
    if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "zstd";
    if (b.subarray(0, 3).toString("latin1") === "BZh") return "bzip2";
    if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
    if (bytesRead >= 262 && b.subarray(257, 262).toString("latin1") === "ustar") return "tar";
    return undefined;
  } finally {
    await fh.close();
  }
}

async function unpackArchive(path: string, kind: ArchiveKind, dest: string): Promise<void> {
  let source: Readable = createReadStream(path);
  if (kind === "bzip2" || kind === "xz") {
    const tool = kind === "bzip2" ? "bzip2" : "xz";
    const child = spawn(tool, ["-dc"], { stdio: ["pipe", "pipe", "inherit"] });
    child.on("error", () => {});
    source.pipe(child.stdin);
    source = child.stdout;
  }
  // The layer unpacker is the safe one (no path leaves dest, owners and modes kept); it reads
  // `.wh.` names as deletions, which an archive given to ADD practically never holds.
  await unpackLayer({ source, dest });
}

async function download(
  url: string,
  dir: string,
  checksum: string | undefined,
  loc: Location,
): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (err) {
    throw new BuildError(`failed to load cache key: ${url}: ${(err as Error).message}`, loc);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new BuildError(`failed to load cache key: invalid response status ${res.status}`, loc);
  }
  const base = posix.basename(new URL(res.url || url).pathname);
  const name = base === "" || base === "/" || base === "." ? "__unnamed__" : base;
  const hash = createHash("sha256");
  const file = join(dir, name);
  await pipeline(
    Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>),
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const c of chunks) {
        hash.update(c);
        yield c;
      }
    },
    createWriteStream(file, { mode: 0o600 }),
  );
  const digest = `sha256:${hash.digest("hex")}`;
  if (checksum !== undefined && checksum !== digest)
    throw new BuildError(`digest mismatch ${digest}: ${checksum}`, loc);
  const modified = Date.parse(res.headers.get("last-modified") ?? "");
  if (!Number.isNaN(modified)) await utimes(file, modified / 1000, modified / 1000);
  return name;
}
