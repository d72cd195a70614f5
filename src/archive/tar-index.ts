import { createReadStream } from "node:fs";
import { Digester } from "../oci/digest.js";
import { NotAnArchiveError, TruncatedArchiveError, UnsafeMemberError } from "./errors.js";

/** One member of a tar, where its data lies in the file. */
export interface TarMember {
  /** Cleaned: relative, no "." or empty components ("./a//b/" is "a/b"). */
  name: string;
  type: "file" | "directory" | "symlink" | "link" | "other";
  /** Where the member's data starts in the tar file. */
  offset: number;
  size: number;
  /** Symlink target as written, or a hard link's cleaned member name. */
  linkname?: string;
  /** Of a regular file: sha256 of its data, or sha512 for a member under blobs/sha512/. */
  digest?: string;
  /** The first bytes of a regular file (to tell gzip and zstd from a plain tar). */
  head?: Buffer;
}

const BLOCK = 512;
const HEAD_BYTES = 8;
/** pax and GNU long-name records are buffered: a sane archive has them far below this. */
const MAX_META = 1024 * 1024;

/**
 * Reads a tar file once and records each member's data offset and size (tar members are
 * contiguous in the file, so a member can later be read with a ranged read stream, without
 * extracting anything) and hashes every regular file on the way, so blobs are known by digest
 * before anything is stored. Understands ustar, pax (path, linkpath, size) and GNU long names.
 * Refuses a file that is not a tar, a truncated one, and member names or link targets that
 * leave the archive. A later member of the same name replaces an earlier one, as tar does.
 */
export async function indexTar(path: string, description = path): Promise<Map<string, TarMember>> {
  const scanner = new TarScanner(description);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    scanner.push(chunk as Buffer);
    if (scanner.done) break;
  }
  return scanner.finish();
}

/** Whether a 512-byte block is a tar header (its checksum holds), to tell a tar from anything else. */
export function isTarHeader(block: Buffer): boolean {
  return block.length >= BLOCK && checksumOk(block);
}

type State =
  | { kind: "header" }
  | { kind: "data"; member: TarMember; remaining: number; digester?: Digester; pad: number }
  | { kind: "meta"; type: string; remaining: number; chunks: Buffer[]; pad: number }
  | { kind: "pad"; remaining: number }
  | { kind: "end" };

class TarScanner {
  readonly members = new Map<string, TarMember>();
  private state: State = { kind: "header" };
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private position = 0;
  private headers = 0;
  /** Overrides for the next header, from a pax 'x' record or a GNU 'L'/'K' member. */
  private pending: { path?: string; linkpath?: string; size?: number } = {};
  private global: { path?: string; linkpath?: string } = {};

  constructor(private readonly archive: string) {}

  get done(): boolean {
    return this.state.kind === "end";
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state.kind !== "end") {
      const state = this.state;
      switch (state.kind) {
        case "header": {
          const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
          chunk.copy(this.header, this.headerFill, at, at + n);
          this.headerFill += n;
          at += n;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            this.onHeader(this.position + at - BLOCK);
          }
          break;
        }
        case "data": {
          const n = Math.min(state.remaining, chunk.length - at);
          const part = chunk.subarray(at, at + n);
          state.digester?.update(part);
          const m = state.member;
          if (m.head && m.head.length < HEAD_BYTES) {
            m.head = Buffer.concat([m.head, part.subarray(0, HEAD_BYTES - m.head.length)]);
          }
          state.remaining -= n;
          at += n;
          if (state.remaining === 0) {
            if (state.digester) m.digest = state.digester.digest().toString();
            this.state = { kind: "pad", remaining: state.pad };
          }
          break;
        }
        case "meta": {
          const n = Math.min(state.remaining, chunk.length - at);
          state.chunks.push(Buffer.from(chunk.subarray(at, at + n)));
          state.remaining -= n;
          at += n;
          if (state.remaining === 0) {
            this.onMeta(state.type, Buffer.concat(state.chunks));
            this.state = { kind: "pad", remaining: state.pad };
          }
          break;
        }
        case "pad": {
          const n = Math.min(state.remaining, chunk.length - at);
          state.remaining -= n;
          at += n;
          break;
        }
      }
      if (this.state.kind === "pad" && this.state.remaining === 0) this.state = { kind: "header" };
    }
    this.position += chunk.length;
  }

  finish(): Map<string, TarMember> {
    if (this.headers === 0) throw new NotAnArchiveError(this.archive);
    const s = this.state;
    if (s.kind === "data") throw new TruncatedArchiveError(this.archive, s.member.name);
    if (s.kind === "meta" || s.kind === "pad" || (s.kind === "header" && this.headerFill > 0)) {
      throw new TruncatedArchiveError(this.archive, undefined);
    }
    // A tar without its two zero blocks is accepted, as Go's archive/tar (Docker's) does.
    return this.members;
  }

  private onHeader(headerOffset: number): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      if (this.headers === 0) throw new NotAnArchiveError(this.archive);
      this.state = { kind: "end" };
      return;
    }
    if (!checksumOk(h)) {
      if (this.headers === 0) throw new NotAnArchiveError(this.archive);
      throw new TruncatedArchiveError(this.archive, undefined);
    }
    this.headers++;
    const typeflag = String.fromCharCode(h[156]!);
    const pending = this.pending;
    const size = pending.size ?? parseNumber(h.subarray(124, 136));
    if (size === undefined) throw new NotAnArchiveError(this.archive);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
      if (size > MAX_META) throw new NotAnArchiveError(this.archive);
      if (size === 0) this.onMeta(typeflag, Buffer.alloc(0));
      else this.state = { kind: "meta", type: typeflag, remaining: size, chunks: [], pad };
      return;
    }
    this.pending = {};
    const magic = h.toString("latin1", 257, 263);
    const prefix = magic === "ustar\0" ? cString(h.subarray(345, 500)) : "";
    const rawName =
      pending.path ??
      this.global.path ??
      (prefix ? `${prefix}/${cString(h.subarray(0, 100))}` : cString(h.subarray(0, 100)));
    const rawLink = pending.linkpath ?? this.global.linkpath ?? cString(h.subarray(157, 257));
    const name = cleanMemberName(rawName, this.archive);
    const type = memberType(typeflag);
    const member: TarMember = { name, type, offset: headerOffset + BLOCK, size };
    if (type === "symlink") {
      member.linkname = rawLink;
      resolveSymlink(name, rawLink, this.archive);
    }
    if (type === "link") member.linkname = cleanMemberName(rawLink, this.archive);
    if (name !== "") this.members.set(name, member);
    // Only regular files have data; a hard link's or directory's size field is not followed by data.
    const dataSize = type === "file" || type === "other" ? size : 0;
    if (type === "file") {
      member.head = Buffer.alloc(0);
      const algorithm = name.startsWith("blobs/sha512/") ? "sha512" : "sha256";
      if (dataSize === 0) member.digest = new Digester(algorithm).digest().toString();
      this.state =
        dataSize === 0
          ? { kind: "header" }
          : { kind: "data", member, remaining: dataSize, digester: new Digester(algorithm), pad };
      return;
    }
    this.state = dataSize === 0 ? { kind: "header" } : { kind: "data", member, remaining: dataSize, pad };
  }

  private onMeta(type: string, data: Buffer): void {
    if (type === "L") this.pending.path = cString(data);
    else if (type === "K") this.pending.linkpath = cString(data);
    else {
      const records = parsePax(data, this.archive);
      const target = type === "g" ? this.global : this.pending;
      if (records.path !== undefined) target.path = records.path;
      if (records.linkpath !== undefined) target.linkpath = records.linkpath;
      if (type === "x" && records.size !== undefined) this.pending.size = records.size;
    }
  }
}

function memberType(typeflag: string): TarMember["type"] {
  switch (typeflag) {
    case "0":
    case "\0":
    case "7":
      return "file";
    case "5":
      return "directory";
    case "2":
      return "symlink";
    case "1":
      return "link";
    default:
      return "other";
  }
}

/**
 * A member name made relative to the archive ("./a//b/" is "a/b"; a leading "/" is dropped, as
 * Docker's untar does). ".." may not climb above the archive's root.
 */
export function cleanMemberName(raw: string, archive: string): string {
  if (raw.includes("\0")) throw new UnsafeMemberError(archive, raw, "has a NUL byte in its name");
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0)
        throw new UnsafeMemberError(archive, raw, "climbs out of the archive with '..'");
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.join("/");
}

/** The member a symlink at `name` points at, within the archive. */
export function resolveSymlink(name: string, target: string, archive: string): string {
  const slash = name.lastIndexOf("/");
  const base = target.startsWith("/") ? "" : slash < 0 ? "" : name.slice(0, slash);
  try {
    return cleanMemberName(base ? `${base}/${target}` : target, archive);
  } catch {
    throw new UnsafeMemberError(
      archive,
      name,
      `is a symlink to ${JSON.stringify(target)}, outside the archive`,
    );
  }
}

function checksumOk(h: Buffer): boolean {
  const stored = parseNumber(h.subarray(148, 156));
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** An octal field (NUL- or space-terminated), or GNU's base-256 form for large sizes. */
function parseNumber(field: Buffer): number | undefined {
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^[\0 ]+/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("utf8", 0, nul < 0 ? b.length : nul);
}

/** pax records: "LEN key=value\n", LEN counting the whole record. */
function parsePax(data: Buffer, archive: string): { path?: string; linkpath?: string; size?: number } {
  const out: { path?: string; linkpath?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number.parseInt(data.toString("latin1", at, space), 10);
    if (!Number.isFinite(length) || length <= 0 || at + length > data.length) {
      throw new NotAnArchiveError(archive);
    }
    const record = data.toString("utf8", space + 1, at + length - 1);
    const eq = record.indexOf("=");
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === "path") out.path = value;
    else if (key === "linkpath") out.linkpath = value;
    else if (key === "size" && /^[0-9]+$/.test(value)) out.size = Number(value);
    at += length;
  }
  return out;
}
