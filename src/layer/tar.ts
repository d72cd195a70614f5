import { CorruptLayerError } from "./errors.js";

/**
 * The tar format, both ways, synchronously: a push parser that hands entries and body slices to
 * a sink without copying (so the unpack worker can write each slice straight to a file), and a
 * header encoder for deterministic layers (ustar, with PAX records only where ustar falls short).
 */

export type EntryType =
  | "file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo"
  | "other";

export interface TarEntry {
  /** As written in the archive (PAX path, GNU long name or ustar prefix/name), not yet cleaned. */
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of body that follow (only "file" entries' bodies reach the sink). */
  size: number;
  /** Seconds since the epoch, fractional when a PAX record says so. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.*` records: raw bytes, since capabilities are binary. */
  xattrs?: Map<string, Buffer>;
}

export interface TarSink {
  entry(entry: TarEntry): void;
  /** A slice of the current file entry's body. Valid only during the call. */
  data(chunk: Buffer): void;
  entryEnd(): void;
}

const BLOCK = 512;
/** PAX and GNU long-name bodies are held in memory; a hostile archive may not make them huge. */
const MAX_META = 8 * 1024 * 1024;

type State = "header" | "body" | "meta" | "skip" | "done";

/** What the metadata entry types are called, for messages (tar's letters mean little to a user). */
const META_NAMES: Record<number, string> = {
  120: "a PAX extended header",
  103: "a PAX global header",
  76: "a GNU long name entry",
  75: "a GNU long link name entry",
};

export class TarReader {
  private state: State = "header";
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private padding = 0;
  private meta: Buffer = Buffer.alloc(0);
  private metaFill = 0;
  private metaType = 0;
  private pax = new Map<string, Buffer>();
  private globalPax = new Map<string, Buffer>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  /** Offset in the tar of the block being read, for error messages. */
  private offset = 0;

  constructor(private readonly sink: TarSink) {}

  get finished(): boolean {
    return this.state === "done";
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len && this.state !== "done") {
      switch (this.state) {
        case "header": {
          if (this.headerFill === 0 && len - pos >= BLOCK) {
            this.onHeader(chunk.subarray(pos, pos + BLOCK));
            pos += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.headerFill, len - pos);
            chunk.copy(this.header, this.headerFill, pos, pos + n);
            this.headerFill += n;
            pos += n;
            if (this.headerFill === BLOCK) {
              this.headerFill = 0;
              this.onHeader(this.header);
            }
          }
          break;
        }
        case "body": {
          const n = Math.min(this.remaining, len - pos);
          this.sink.data(chunk.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.sink.entryEnd();
            this.afterBody();
          }
          break;
        }
        case "meta": {
          const n = Math.min(this.remaining, len - pos);
          chunk.copy(this.meta, this.metaFill, pos, pos + n);
          this.metaFill += n;
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.onMeta();
            this.afterBody();
          }
          break;
        }
        case "skip": {
          const n = Math.min(this.remaining, len - pos);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.afterBody();
          break;
        }
      }
    }
  }

  /** The input is over: a tar cut off inside an entry is an error, a missing end marker is not. */
  end(): void {
    if (this.state === "done") return;
    if (
      this.state === "header" &&
      this.headerFill === 0 &&
      this.longName === undefined &&
      this.pax.size === 0
    )
      return;
    throw new CorruptLayerError(`the tar ends in the middle of an entry (at byte ${this.offset})`);
  }

  private afterBody(): void {
    this.offset += this.padding;
    if (this.padding > 0) {
      this.remaining = this.padding;
      this.padding = 0;
      this.state = "skip";
    } else {
      this.state = "header";
    }
  }

  private startBody(size: number, state: "body" | "meta" | "skip"): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.offset += size;
    if (size === 0) {
      if (state === "body") this.sink.entryEnd();
      if (state === "meta") this.onMeta();
      this.afterBody();
    } else {
      this.state = state;
    }
  }

  private onHeader(h: Buffer): void {
    const at = this.offset;
    this.offset += BLOCK;
    if (isZero(h)) {
      if (++this.zeroBlocks >= 2) this.state = "done";
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) throw new CorruptLayerError(`invalid tar header checksum at byte ${at}`);
    const typeflag = h[156] ?? 0;
    const isMeta = typeflag === 0x78 || typeflag === 0x67 || typeflag === 0x4c || typeflag === 0x4b;
    let size = readNumber(h, 124, 12);
    const paxSize = isMeta ? undefined : this.paxString("size");
    if (paxSize !== undefined) size = Number(paxSize);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new CorruptLayerError(`invalid entry size in the tar header at byte ${at}`);

    // x: PAX for the next entry; g: PAX for all later ones; L/K: GNU long name and link name.
    if (isMeta) {
      if (size > MAX_META)
        throw new CorruptLayerError(`${META_NAMES[typeflag]} of ${size} bytes is too large (at byte ${at})`);
      this.metaType = typeflag;
      this.meta = Buffer.allocUnsafe(size);
      this.metaFill = 0;
      this.startBody(size, "meta");
      return;
    }

    const ustar = h.readUInt32BE(257) === 0x75737461 && h[261] === 0x72 && h[262] === 0; // "ustar\0"
    let name = this.longName ?? cString(h, 0, 100);
    if (this.longName === undefined && ustar && h[345] !== 0) name = `${cString(h, 345, 155)}/${name}`;
    const paxPath = this.paxString("path");
    if (paxPath !== undefined) name = paxPath;
    const linkname = this.paxString("linkpath") ?? this.longLink ?? cString(h, 157, 100);

    let type = entryType(typeflag);
    if (type === "file" && name.endsWith("/")) type = "directory"; // pre-POSIX directories
    if (typeflag === 0x53) throw new CorruptLayerError(`GNU sparse files are not supported (${name})`);
    const paxUid = this.paxString("uid");
    const paxGid = this.paxString("gid");
    const paxMtime = this.paxString("mtime");
    let xattrs: Map<string, Buffer> | undefined;
    for (const source of [this.globalPax, this.pax]) {
      for (const [key, value] of source) {
        if (!key.startsWith("SCHILY.xattr.")) continue;
        xattrs ??= new Map();
        xattrs.set(key.slice("SCHILY.xattr.".length), value);
      }
    }
    const entry: TarEntry = {
      name,
      type,
      mode: readNumber(h, 100, 8),
      uid: paxUid !== undefined ? Number(paxUid) : readNumber(h, 108, 8),
      gid: paxGid !== undefined ? Number(paxGid) : readNumber(h, 116, 8),
      size,
      mtime: paxMtime !== undefined ? Number(paxMtime) : readNumber(h, 136, 12),
      linkname,
      devmajor: readNumber(h, 329, 8),
      devminor: readNumber(h, 337, 8),
      xattrs,
    };
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    this.sink.entry(entry);
    this.startBody(size, type === "file" ? "body" : "skip");
  }

  private paxString(key: string): string | undefined {
    const v = this.pax.get(key) ?? this.globalPax.get(key);
    return v?.toString("utf8");
  }

  private onMeta(): void {
    const body = this.meta;
    this.meta = Buffer.alloc(0);
    if (this.metaType === 0x4c) this.longName = cString(body, 0, body.length);
    else if (this.metaType === 0x4b) this.longLink = cString(body, 0, body.length);
    else parsePax(body, this.metaType === 0x67 ? this.globalPax : this.pax);
  }
}

/** PAX records: "<length> <key>=<value>\n", values kept as bytes. */
function parsePax(body: Buffer, into: Map<string, Buffer>): void {
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) break;
    const length = Number(body.toString("latin1", pos, space));
    if (!Number.isSafeInteger(length) || length <= 0 || pos + length > body.length)
      throw new CorruptLayerError("malformed PAX record");
    const record = body.subarray(space + 1, pos + length - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new CorruptLayerError("malformed PAX record");
    const key = record.toString("utf8", 0, eq);
    const value = Buffer.from(record.subarray(eq + 1));
    // An empty value deletes the key (POSIX pax), which matters for global records.
    if (value.length === 0) into.delete(key);
    else into.set(key, value);
    pos += length;
  }
}

function entryType(flag: number): EntryType {
  switch (flag) {
    case 0:
    case 0x30: // '0'
    case 0x37: // '7' contiguous
      return "file";
    case 0x31:
      return "link";
    case 0x32:
      return "symlink";
    case 0x33:
      return "character-device";
    case 0x34:
      return "block-device";
    case 0x35:
    case 0x44: // 'D' GNU dump directory
      return "directory";
    case 0x36:
      return "fifo";
    default:
      return "other";
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 4) if (b.readUInt32LE(i) !== 0) return false;
  return true;
}

function checksumOk(h: Buffer): boolean {
  const stored = readNumber(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function cString(b: Buffer, start: number, length: number): string {
  const nul = b.indexOf(0, start);
  const end = nul < 0 || nul > start + length ? start + length : nul;
  return b.toString("utf8", start, end);
}

/** Octal (space or NUL terminated), or GNU base-256 when the high bit of the first byte is set. */
function readNumber(b: Buffer, start: number, length: number): number {
  const first = b[start] ?? 0;
  if (first & 0x80) {
    if (first === 0xff) throw new CorruptLayerError("negative number in a tar header");
    let value = first & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (b[i] ?? 0);
    return value;
  }
  let i = start;
  const end = start + length;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let value = 0;
  for (; i < end; i++) {
    const c = b[i] ?? 0;
    if (c < 0x30 || c > 0x37) break;
    value = value * 8 + (c - 0x30);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface TarHeaderFields {
  name: string;
  type: Exclude<EntryType, "other">;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds: layers are reproducible only without sub-second times. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const TYPEFLAG: Record<TarHeaderFields["type"], number> = {
  file: 0x30,
  link: 0x31,
  symlink: 0x32,
  "character-device": 0x33,
  "block-device": 0x34,
  directory: 0x35,
  fifo: 0x36,
};

const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/**
 * The header block(s) for one entry: a ustar header, preceded by a PAX header when the name or
 * link name is long or not ASCII, an id or size does not fit, or there are xattrs. PAX keys are
 * sorted and nothing depends on the clock, so equal trees give equal bytes.
 */
export function encodeHeader(f: TarHeaderFields): Buffer {
  const pax: [string, Buffer][] = [];
  const nameBytes = Buffer.from(f.name, "utf8");
  const linkBytes = Buffer.from(f.linkname ?? "", "utf8");
  if (nameBytes.length > 100 || !isAscii(nameBytes)) pax.push(["path", nameBytes]);
  if (linkBytes.length > 100 || !isAscii(linkBytes)) pax.push(["linkpath", linkBytes]);
  if (f.uid > MAX_OCTAL_8) pax.push(["uid", Buffer.from(String(f.uid))]);
  if (f.gid > MAX_OCTAL_8) pax.push(["gid", Buffer.from(String(f.gid))]);
  if (f.size > MAX_OCTAL_12) pax.push(["size", Buffer.from(String(f.size))]);
  if (f.xattrs)
    for (const [k, v] of [...f.xattrs].sort(([a], [b]) => compareStrings(a, b)))
      pax.push([`SCHILY.xattr.${k}`, v]);
  pax.sort(([a], [b]) => compareStrings(a, b));

  const main = ustarBlock(f, nameBytes, linkBytes);
  if (pax.length === 0) return main;
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const slash = f.name.replace(/\/$/, "").lastIndexOf("/");
  const paxName = `${slash < 0 ? "." : f.name.slice(0, slash)}/PaxHeaders.0/${f.name.replace(/\/$/, "").slice(slash + 1)}`;
  const paxHeader = ustarBlock(
    { name: paxName, type: "file", mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: 0 },
    truncateUtf8(Buffer.from(paxName, "utf8"), 100),
    Buffer.alloc(0),
    0x78,
  );
  return Buffer.concat([paxHeader, records, Buffer.alloc(padding(records.length)), main]);
}

/** Zero bytes that fill a body of `size` up to a block boundary. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

function ustarBlock(f: TarHeaderFields, name: Buffer, link: Buffer, typeflag = TYPEFLAG[f.type]): Buffer {
  const h = Buffer.alloc(BLOCK);
  truncateUtf8(name, 100).copy(h, 0);
  writeOctal(h, 100, 8, f.mode & 0o7777);
  writeOctal(h, 108, 8, Math.min(f.uid, MAX_OCTAL_8));
  writeOctal(h, 116, 8, Math.min(f.gid, MAX_OCTAL_8));
  if (f.size > MAX_OCTAL_12) writeBase256(h, 124, 12, f.size);
  else writeOctal(h, 124, 12, f.size);
  writeOctal(h, 136, 12, Math.max(0, Math.min(Math.floor(f.mtime), MAX_OCTAL_12)));
  h[156] = typeflag;
  truncateUtf8(link, 100).copy(h, 157);
  h.write("ustar\u000000", 257, "latin1");
  if (f.type === "character-device" || f.type === "block-device") {
    writeOctal(h, 329, 8, f.devmajor ?? 0);
    writeOctal(h, 337, 8, f.devminor ?? 0);
  }
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i] ?? 0;
  h.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
  return h;
}

function paxRecord(key: string, value: Buffer): Buffer {
  // The length counts its own digits: grow it until it is consistent.
  const rest = Buffer.byteLength(key) + value.length + 3; // space, '=', newline
  let length = rest + 1;
  while (rest + String(length).length !== length) length = rest + String(length).length;
  return Buffer.concat([Buffer.from(`${length} ${key}=`, "utf8"), value, Buffer.from("\n")]);
}

function writeOctal(h: Buffer, start: number, length: number, value: number): void {
  h.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, start, "latin1");
}

function writeBase256(h: Buffer, start: number, length: number, value: number): void {
  for (let i = start + length - 1; i > start; i--) {
    h[i] = value % 256;
    value = Math.floor(value / 256);
  }
  h[start] = 0x80;
}

function isAscii(b: Buffer): boolean {
  for (const c of b) if (c >= 0x80) return false;
  return true;
}

/** At most `max` bytes, cut at a character boundary. */
function truncateUtf8(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

/** Byte order of the UTF-8 encodings, which is the order layer tools sort names in. */
export function compareStrings(a: string, b: string): number {
  // UTF-16 code units order strings as UTF-8 bytes do, except where a surrogate (a character
  // above U+FFFF) meets U+E000-U+FFFF: only then are the bytes compared. Builds sort thousands
  // of names, and two Buffers per comparison made most of their garbage.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x & 0xf800) === 0xd800 || (y & 0xf800) === 0xd800)
      return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
