import type { RawPackage } from "../model.js";

/**
 * A Go executable's build information, read from its ELF image as it streams by, without
 * running it (as Go's debug/buildinfo reads it). Go's linker puts the `.go.buildinfo` data at
 * the start of the first writable, non-executable PT_LOAD segment, 16-byte aligned, behind the
 * magic `\xff Go buildinf:`. The program headers come first in the file, so the segment's offset
 * is known before its bytes arrive: the probe keeps the ELF header and program headers (at most
 * HEAD_LIMIT bytes) and then a bounded window of that segment, nothing else.
 */
const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const HEAD_LIMIT = 64 * 1024;
const WINDOW = 1024 * 1024;
const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;

export type ProbeResult =
  | { kind: "not-go" }
  | { kind: "go"; goVersion: string; packages: RawPackage[] }
  | { kind: "error"; error: string };

export class GoBinaryProbe {
  private head: Buffer[] = [];
  private headLength = 0;
  private offset = 0;
  private window?: { start: number; end: number; filled: number; chunks: Buffer[] };
  private done?: ProbeResult;

  constructor(
    private readonly size: number,
    private readonly location: string,
  ) {}

  /** Whether more bytes are wanted. */
  get wanting(): boolean {
    return this.done === undefined;
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    const at = this.offset;
    this.offset += chunk.length;
    if (!this.window) {
      const need = Math.min(HEAD_LIMIT, this.size) - this.headLength;
      if (need > 0) {
        const part = chunk.subarray(0, need);
        this.head.push(Buffer.from(part));
        this.headLength += part.length;
      }
      if (this.headLength >= Math.min(HEAD_LIMIT, this.size) || this.headLength >= 64) this.planWindow();
      if (this.done || !this.window) return;
    }
    const w = this.window;
    const lo = Math.max(at, w.filled);
    const hi = Math.min(this.offset, w.end);
    if (hi > lo) {
      w.chunks.push(Buffer.from(chunk.subarray(lo - at, hi - at)));
      w.filled = hi;
    }
    if (this.offset >= w.end) this.done = this.decode(Buffer.concat(w.chunks));
  }

  /** The verdict, once the stream ended (or once the window was read). */
  finish(): ProbeResult {
    if (this.done) return this.done;
    if (this.window) return this.decode(Buffer.concat(this.window.chunks));
    if (this.headLength < 64) return { kind: "not-go" };
    this.planWindow();
    return this.done ?? { kind: "not-go" };
  }

  private planWindow(): void {
    const head = Buffer.concat(this.head);
    this.head = [head];
    const plan = dataSegment(head, this.size);
    if (plan === "wait") {
      if (this.headLength >= Math.min(HEAD_LIMIT, this.size))
        this.done = { kind: "error", error: "ELF program headers lie beyond the first 64 KiB" };
      return;
    }
    if (typeof plan === "string") {
      this.done = plan === "none" ? { kind: "not-go" } : { kind: "error", error: plan };
      return;
    }
    const end = Math.min(plan.offset + Math.min(plan.size, WINDOW), this.size);
    this.window = { start: plan.offset, end, filled: plan.offset, chunks: [] };
    // The segment may begin inside the head, already read.
    if (plan.offset < this.headLength) {
      this.window.filled = Math.min(this.headLength, end);
      this.window.chunks.push(head.subarray(plan.offset, this.window.filled));
    }
    if (this.window.end <= this.headLength) this.done = this.decode(Buffer.concat(this.window.chunks));
  }

  private decode(data: Buffer): ProbeResult {
    // The magic is 16-byte aligned in memory; a segment's file offset and address agree modulo
    // its page alignment, so the file offset is 16-byte aligned too (the segment's start may not be).
    const start = this.window?.start ?? 0;
    for (let i = (16 - (start % 16)) % 16; i + 32 <= data.length; i += 16) {
      if (data[i] !== 0xff || !data.subarray(i, i + MAGIC.length).equals(MAGIC)) continue;
      return decodeBuildInfo(data.subarray(i), this.location);
    }
    return { kind: "not-go" };
  }
}

/**
 * The file range of the segment Go keeps its build info in, from the ELF header and program
 * headers; "none" for an ELF without one, "wait" when the program headers are not all in `head`
 * yet, or a message when the headers contradict themselves or the file.
 */
function dataSegment(
  head: Buffer,
  size: number,
): { offset: number; size: number } | "none" | "wait" | string {
  if (head.readUInt32BE(0) !== 0x7f454c46) return "none";
  const cls = head[4];
  const le = head[5] === 1;
  if ((cls !== 1 && cls !== 2) || (head[5] !== 1 && head[5] !== 2))
    return "ELF header names an unknown class or byte order";
  const u16 = (o: number) => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? head.readBigUInt64LE(o) : head.readBigUInt64BE(o));
  const is64 = cls === 2;
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  if (phnum === 0) return "none";
  if (phentsize !== (is64 ? 56 : 32)) return `ELF program header size ${phentsize} is not ${is64 ? 56 : 32}`;
  const end = phoff + phnum * phentsize;
  if (end > size) return "ELF program headers lie beyond the end of the file";
  if (end > head.length) return "wait";
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const type = u32(p);
    const flags = is64 ? u32(p + 4) : u32(p + 24);
    if (type !== PT_LOAD || (flags & (PF_X | PF_W)) !== PF_W) continue;
    const offset = is64 ? u64(p + 8) : u32(p + 4);
    const filesz = is64 ? u64(p + 32) : u32(p + 16);
    if (offset + filesz > size) return "ELF data segment lies beyond the end of the file";
    return { offset, size: filesz };
  }
  return "none";
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && shift < 35; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { value, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

/** The build info header (32 bytes) and, since Go 1.18, the version and module info inline as varint-prefixed strings. */
function decodeBuildInfo(data: Buffer, location: string): ProbeResult {
  const flags = data[15]!;
  if ((flags & 2) === 0) {
    return {
      kind: "error",
      error: "a Go binary from before Go 1.18 (build info held by pointers): not read",
    };
  }
  const strings: string[] = [];
  let at = 32;
  for (let n = 0; n < 2; n++) {
    const v = readVarint(data, at);
    if (!v || v.next + v.value > data.length)
      return { kind: "error", error: "Go build info claims strings longer than its segment" };
    strings.push(data.toString("utf8", v.next, v.next + v.value));
    at = v.next + v.value;
  }
  let [goVersion, mod] = strings as [string, string];
  if (mod.length >= 33 && mod[mod.length - 17] === "\n") mod = mod.slice(16, -16);
  return { kind: "go", goVersion, packages: parseModInfo(goVersion, mod, location) };
}

/** Go's module info text: `path`, `mod`, `dep` lines, each `dep` maybe followed by its `=>` replacement. */
export function parseModInfo(goVersion: string, modinfo: string, location: string): RawPackage[] {
  const out: RawPackage[] = [];
  const pkg = (name: string, version: string): RawPackage => ({
    type: "golang",
    name,
    version,
    licenses: [],
    location,
  });
  for (const line of modinfo.split("\n")) {
    const f = line.split("\t");
    if ((f[0] === "mod" || f[0] === "dep") && f[1] && f[2]) out.push(pkg(f[1], f[2]));
    else if (f[0] === "=>" && f[1] && out.length > 0) {
      // A replacement by another module counts as that module; by a directory, the code is local.
      const local = /^(\.{1,2}\/|\/)/.test(f[1]);
      out[out.length - 1] = local ? pkg(out[out.length - 1]!.name, "(devel)") : pkg(f[1], f[2] || "(devel)");
    }
  }
  const m = /^go(\d+\.\d+(?:\.\d+)?)/.exec(goVersion);
  if (m) out.push(pkg("stdlib", `v${m[1]}`));
  return out;
}
