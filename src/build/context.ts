import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { type Readable, Transform } from "node:stream";
import { detectCompression, peek } from "../layer/compression.js";
import { unpackLayer } from "../layer/unpack.js";
import { BuildContextError } from "./errors.js";
import { DirectoryTree, type IgnoreMatcher } from "./trees.js";

/**
 * The build context: a directory, a tar (a file or stdin, unpacked into the store's scratch
 * space), or nothing (a Dockerfile on stdin). `.dockerignore` (or `<Dockerfile>.dockerignore`
 * next to the Dockerfile) hides files from COPY and ADD with Docker's pattern rules; a context
 * whose visible files exceed the size limit is refused before anything is built, with a hint.
 */

export type ContextInput =
  | { kind: "directory"; path: string }
  | { kind: "tar"; stream: Readable; description: string }
  | { kind: "none" };

export interface ContextOptions {
  /** `-f`: a path (relative to the working directory for a directory context, inside a tar
   * otherwise); "-" with `dockerfileText` for stdin. Default CONTEXT/Dockerfile. */
  dockerfile?: string;
  /** The Dockerfile's text when it does not come from the context (`-f -`, `berth build - < Dockerfile`). */
  dockerfileText?: string;
  /** Where a tar context is unpacked (the store's tmp/). */
  scratch: string;
  /** Bytes of visible files the context may hold. */
  maxSize: number;
}

export interface BuildContext {
  tree: DirectoryTree;
  /** The Dockerfile's text and the name errors give it ("Dockerfile", "app.Dockerfile"). */
  dockerfile: { text: string; name: string };
  /** Bytes of the files COPY and ADD can see. */
  size: number;
  files: number;
  dispose(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** `-` on the command line: a tar (or compressed tar) if it looks like one, else a Dockerfile. */
export async function readStdinContext(
  stdin: Readable,
): Promise<{ input: ContextInput; dockerfileText?: string }> {
  const { head, stream } = await peek(stdin, 512);
  const isTar = detectCompression(head) !== "none" || head.subarray(257, 262).toString("latin1") === "ustar";
  if (isTar) return { input: { kind: "tar", stream, description: "stdin" } };
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { input: { kind: "none" }, dockerfileText: Buffer.concat(chunks).toString("utf8") };
}

export async function loadContext(input: ContextInput, opts: ContextOptions): Promise<BuildContext> {
  let root: string;
  let temporary: string | undefined;
  if (input.kind === "directory") {
    root = resolve(input.path);
    const st = await stat(root).catch(() => undefined);
    if (!st)
      throw new BuildContextError(`unable to prepare context: path ${JSON.stringify(input.path)} not found`);
    if (!st.isDirectory())
      throw new BuildContextError(
        `unable to prepare context: ${JSON.stringify(input.path)} is not a directory`,
      );
  } else {
    await mkdir(opts.scratch, { recursive: true });
    temporary = await mkdtemp(join(opts.scratch, "context-"));
    root = join(temporary, "root");
    await mkdir(root);
    if (input.kind === "tar") {
      try {
        await unpackLayer({
          source: input.stream.pipe(limitBytes(opts.maxSize, input.description)),
          dest: root,
        });
      } catch (err) {
        await rm(temporary, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const dispose = async () => {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  };
  try {
    const dockerfile = await readDockerfile(input, root, opts);
    const patterns = await readIgnoreFile(dockerfile.path, root);
    const ignored = patterns.length > 0 ? matcher(patterns) : undefined;
    const tree = new DirectoryTree(
      root,
      ignored,
      patterns.some((p) => p.startsWith("!")),
    );
    const { size, files } = measure(tree, opts.maxSize);
    return { tree, dockerfile: { text: dockerfile.text, name: dockerfile.name }, size, files, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function readDockerfile(
  input: ContextInput,
  root: string,
  opts: ContextOptions,
): Promise<{ text: string; name: string; path?: string }> {
  if (opts.dockerfileText !== undefined) return { text: opts.dockerfileText, name: "Dockerfile" };
  const given = opts.dockerfile;
  const path =
    given === undefined
      ? join(root, "Dockerfile")
      : input.kind === "directory"
        ? resolve(given)
        : join(root, given.replace(/^\/+/, ""));
  try {
    return { text: await readFile(path, "utf8"), name: basename(given ?? "Dockerfile"), path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR")
      throw new BuildContextError(
        `failed to read dockerfile: open ${given ?? "Dockerfile"}: no such file or directory`,
      );
    throw err;
  }
}

/** Patterns of `<Dockerfile>.dockerignore` when it exists, else of CONTEXT/.dockerignore. */
async function readIgnoreFile(dockerfilePath: string | undefined, root: string): Promise<string[]> {
  const candidates = [
    ...(dockerfilePath ? [join(dirname(dockerfilePath), `${basename(dockerfilePath)}.dockerignore`)] : []),
    join(root, ".dockerignore"),
  ];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue;
    }
    return parseIgnoreFile(text);
  }
  return [];
}

/** Docker's ReadAll: one pattern a line, `#` comments, blank lines skipped, leading `/` dropped. */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.startsWith("#")) continue;
    let p = raw.trim();
    if (p === "") continue;
    const negate = p.startsWith("!");
    if (negate) p = p.slice(1).trim();
    p = p.replace(/^\/+/, "");
    if (p === "") continue;
    out.push(negate ? `!${p}` : p);
  }
  return out;
}

type DockerIgnore = { add(p: string[]): DockerIgnore; ignores(path: string): boolean };

export function matcher(patterns: string[]): IgnoreMatcher {
  const factory = (require("@balena/dockerignore") as { default: () => DockerIgnore }).default;
  const ig = factory().add(patterns);
  return (rel) => ig.ignores(rel);
}

/** Sizes what COPY can see, stopping as soon as the limit is passed. */
function measure(tree: DirectoryTree, limit: number): { size: number; files: number } {
  let size = 0;
  let files = 0;
  const walk = (rel: string) => {
    for (const name of tree.list(rel)) {
      const child = rel === "" ? name : `${rel}/${name}`;
      const e = tree.entry(child);
      if (!e) continue;
      files++;
      if (e.stat.isFile()) {
        size += e.stat.size;
        if (size > limit) throw tooLarge(size, limit);
      } else if (e.stat.isDirectory()) {
        walk(child);
      }
    }
  };
  walk("");
  return { size, files };
}

function tooLarge(size: number, limit: number): BuildContextError {
  return new BuildContextError(
    `the build context is larger than the limit of ${formatBytes(limit)} (at least ${formatBytes(size)}): ` +
      "list what the build does not need in a .dockerignore file, or raise buildContextLimit in the store's config.yaml",
  );
}

/** Counts a tar context's bytes as they arrive and stops the unpack once the limit is passed. */
function limitBytes(limit: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) {
        const err = tooLarge(seen, limit);
        cb(new BuildContextError(`${err.detail} (${what})`));
        return;
      }
      cb(null, chunk);
    },
  });
}

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(1))}${units[i]}`;
}

export const DEFAULT_CONTEXT_LIMIT = 4 * 1024 ** 3;

/** "500m", "2g", "1.5GiB", "1048576" as bytes. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(String(text).trim());
  if (!m) return undefined;
  const pow = { "": 0, k: 1, m: 2, g: 3, t: 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.round(Number(m[1]) * 1024 ** pow);
}
