import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Digester } from "../oci/digest.js";
import { ArchiveError } from "./errors.js";
import { cleanMemberName, resolveSymlink, type TarMember } from "./tar-index.js";

/** A regular file of an archive, links followed. */
export interface MemberInfo {
  /** The member's own (cleaned) name, after links. */
  name: string;
  size: number;
}

/**
 * The files of an archive, whether a tar (read in place by offset) or a directory: what the
 * docker-archive and OCI layout readers are written against, so both work on either.
 */
export interface ArchiveFiles {
  /** How errors name the archive: the path given, or "standard input". */
  readonly description: string;
  /** A regular file by name, links followed; undefined when there is none. */
  stat(name: string): Promise<MemberInfo | undefined>;
  /** Its data from byte `start`, streamed. */
  open(info: MemberInfo, start?: number): Readable;
  /** Digest of its data (sha256, or sha512 when asked) and its first bytes; computed once. */
  describe(info: MemberInfo, algorithm?: "sha256" | "sha512"): Promise<{ digest: string; head: Buffer }>;
  close(): Promise<void>;
}

const MAX_LINKS = 16;
/** JSON documents (manifest.json, index.json, manifests, configs) are read whole, up to this size. */
const MAX_JSON = 32 * 1024 * 1024;

/** A tar file indexed by `indexTar`: members are served by ranged reads of the file. */
export class TarFiles implements ArchiveFiles {
  constructor(
    private readonly path: string,
    readonly description: string,
    private readonly members: Map<string, TarMember>,
    private readonly cleanup: () => Promise<void> = async () => {},
  ) {}

  async stat(raw: string): Promise<MemberInfo | undefined> {
    let name = cleanMemberName(raw, this.description);
    for (let hops = 0; hops <= MAX_LINKS; hops++) {
      const m = this.members.get(name);
      if (!m) return undefined;
      if (m.type === "file") return { name: m.name, size: m.size };
      if (m.type === "symlink") name = resolveSymlink(m.name, m.linkname ?? "", this.description);
      else if (m.type === "link") name = m.linkname ?? "";
      else throw new ArchiveError(`${JSON.stringify(raw)} in ${this.description} is not a regular file`);
    }
    throw new ArchiveError(`${JSON.stringify(raw)} in ${this.description} is a loop of links`);
  }

  open(info: MemberInfo, start = 0): Readable {
    const m = this.members.get(info.name)!;
    if (start >= m.size) return Readable.from([]);
    return createReadStream(this.path, {
      start: m.offset + start,
      end: m.offset + m.size - 1,
      highWaterMark: 1024 * 1024,
    });
  }

  async describe(info: MemberInfo, algorithm: "sha256" | "sha512" = "sha256") {
    const m = this.members.get(info.name)!;
    if (m.digest?.startsWith(`${algorithm}:`)) return { digest: m.digest, head: m.head ?? Buffer.alloc(0) };
    return hashStream(this.open(info), algorithm);
  }

  close(): Promise<void> {
    return this.cleanup();
  }
}

/** An unpacked archive or OCI layout directory. Names are cleaned and may not climb out of it. */
export class DirectoryFiles implements ArchiveFiles {
  private readonly described = new Map<string, { digest: string; head: Buffer }>();

  constructor(
    private readonly root: string,
    readonly description: string,
  ) {}

  async stat(raw: string): Promise<MemberInfo | undefined> {
    const name = cleanMemberName(raw, this.description);
    const st = await stat(join(this.root, name)).catch(() => undefined);
    return st?.isFile() ? { name, size: st.size } : undefined;
  }

  open(info: MemberInfo, start = 0): Readable {
    return createReadStream(join(this.root, info.name), { start, highWaterMark: 1024 * 1024 });
  }

  async describe(info: MemberInfo, algorithm: "sha256" | "sha512" = "sha256") {
    const key = `${algorithm}:${info.name}`;
    let known = this.described.get(key);
    if (!known) {
      known = await hashStream(this.open(info), algorithm);
      this.described.set(key, known);
    }
    return known;
  }

  async close(): Promise<void> {}
}

async function hashStream(stream: Readable, algorithm: "sha256" | "sha512") {
  const digester = new Digester(algorithm);
  let head = Buffer.alloc(0);
  for await (const chunk of stream) {
    if (head.length < 8) head = Buffer.concat([head, (chunk as Buffer).subarray(0, 8 - head.length)]);
    digester.update(chunk as Buffer);
  }
  return { digest: digester.digest().toString(), head };
}

/** A small member (a JSON document) whole. */
export async function readMember(files: ArchiveFiles, info: MemberInfo): Promise<Buffer> {
  if (info.size > MAX_JSON) {
    throw new ArchiveError(
      `${JSON.stringify(info.name)} in ${files.description} is ${info.size} bytes: too large for the JSON document it should be`,
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of files.open(info)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
