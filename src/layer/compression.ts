import { spawn } from "node:child_process";
import { accessSync, constants as fsConstants } from "node:fs";
import { delimiter, join } from "node:path";
import { Duplex, PassThrough, Readable } from "node:stream";
import { promisify } from "node:util";
import { constants, crc32, createGunzip, deflateRaw, deflateRawSync } from "node:zlib";
import { CorruptLayerError, LayerToolError, MissingToolError } from "./errors.js";

export type Compression = "none" | "gzip" | "zstd";

/** Compression from the first bytes of a stream (gzip 1f 8b, zstd 28 b5 2f fd, else a plain tar). */
export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/**
 * Output chunks of zlib: larger ones mean fewer thread-pool round trips per megabyte, but each
 * concurrent unpack holds a few of them; at 1 MiB a pull of big-1 peaked near 150 MB RSS, at
 * 256 KiB near 140 MB, in the same time.
 */
const ZLIB_CHUNK = 256 * 1024;

/**
 * A stream that decompresses; zstd through Debian's zstd binary (Node 20's zlib has none), gzip
 * through ISA-L's igzip (Debian's isal) where it is installed and zlib otherwise: igzip inflates
 * a 65 MB layer of big-1 with 0.27 s of CPU where zlib takes 0.64 s, and a pull is bound by CPU
 * (bench/RESULTS.md, issue 21). BERTH_GUNZIP=zlib keeps zlib.
 */
export function decompressStream(kind: Compression): Duplex {
  if (kind === "gzip") {
    const igzip = process.env.BERTH_GUNZIP === "zlib" ? undefined : findProgram("igzip");
    if (!igzip) return createGunzip({ chunkSize: ZLIB_CHUNK });
    return processStream(igzip, ["-dc"], (stderr) => new CorruptLayerError(`invalid gzip data: ${stderr}`));
  }
  if (kind === "zstd") return processStream("zstd", ["-dc"]);
  return new PassThrough();
}

const found = new Map<string, string | undefined>();

/** The path of an executable on $PATH, looked up once per PATH. */
export function findProgram(name: string): string | undefined {
  const path = process.env.PATH ?? "";
  const key = `${name}\0${path}`;
  if (!found.has(key)) {
    let at: string | undefined;
    for (const dir of path.split(delimiter)) {
      if (!dir) continue;
      try {
        accessSync(join(dir, name), fsConstants.X_OK);
        at = join(dir, name);
        break;
      } catch {}
    }
    found.set(key, at);
  }
  return found.get(key);
}

/**
 * A stream that compresses, at `level` (gzip 1-9, default 6 as Docker; zstd 1-19, default 3);
 * zstd through Debian's zstd binary, on all cores.
 */
export function compressStream(kind: Compression, level?: number): Duplex {
  if (kind === "gzip") return blockGzip(level ?? 6);
  if (kind === "zstd") return processStream("zstd", ["-c", "-T0", `-${level ?? 3}`]);
  return new PassThrough();
}

/**
 * A child process as a stream: stdin in, stdout out, a failure or non-zero exit as an error
 * (`failure` words it from the tool's stderr; a LayerToolError otherwise).
 */
function processStream(cmd: string, args: string[], failure?: (stderr: string) => Error): Duplex {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const ended = new Promise<Error | undefined>((resolve) => {
    child.on("error", (err: NodeJS.ErrnoException) =>
      resolve(err.code === "ENOENT" ? new MissingToolError(cmd, cmd, `for ${cmd}-compressed layers`) : err),
    );
    child.on("close", (code, signal) => {
      const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit ${code}`);
      resolve(
        code === 0
          ? undefined
          : (failure?.(why) ?? new LayerToolError(`${cmd} ${args.join(" ")} failed: ${why}`)),
      );
    });
  });
  // The output ends only once the tool has exited well: a truncated input makes it print what
  // it could and then fail, which must fail the stream, not end it early.
  const output = async function* () {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const err = await ended;
    if (err) throw err;
  };
  const duplex = Duplex.from({ writable: child.stdin, readable: Readable.from(output()) });
  void ended.then((err) => {
    if (err) duplex.destroy(err);
  });
  duplex.on("close", () => {
    if (child.exitCode === null) child.kill();
  });
  return duplex;
}

/** Reads the first bytes of a stream and gives back a stream that still starts with them. */
export async function peek(source: Readable, bytes: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let total = 0;
  const iterator = source[Symbol.asyncIterator]();
  while (total < bytes) {
    const { value, done } = await iterator.next();
    if (done) break;
    chunks.push(value as Buffer);
    total += (value as Buffer).length;
  }
  const head = Buffer.concat(chunks);
  const stream = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) return;
        yield value as Buffer;
      }
    })(),
  );
  return { head, stream };
}

const BLOCK = 1024 * 1024;
const IN_FLIGHT = 4;
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
/** An empty stored block with BFINAL set: the end of the deflate stream. */
const FINAL_BLOCK = Buffer.from([1, 0, 0, 0xff, 0xff]);
const deflateRawAsync = promisify(deflateRaw);

/**
 * gzip as pigz makes it: the input cut into 1 MiB blocks, each deflated on its own (zlib's thread
 * pool, several at once, so every core works) and ended with a sync flush, the blocks joined into
 * one deflate stream with one CRC. A block that does not compress (a sample of it at level 1 saves
 * under 2%) is stored as it is, which is what deflate would end up writing for it anyway, without
 * the time spent trying. The blocks are cut at fixed offsets, so equal input gives equal bytes
 * however it arrives. Input chunks are held until their block is complete: writers must not reuse
 * their buffers.
 */
function blockGzip(level: number): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    yield GZIP_HEADER;
    let crc = 0;
    let total = 0;
    const pending: Promise<Buffer>[] = [];
    let parts: Buffer[] = [];
    let filled = 0;
    const submit = (block: Buffer) => {
      crc = crc32(block, crc);
      total += block.length;
      const p = deflateBlock(block, level);
      p.catch(() => {}); // awaited in order below
      pending.push(p);
    };
    for await (const chunk of source) {
      let rest = chunk as Buffer;
      while (rest.length > 0) {
        const take = Math.min(BLOCK - filled, rest.length);
        parts.push(rest.subarray(0, take));
        filled += take;
        rest = rest.subarray(take);
        if (filled === BLOCK) {
          submit(parts.length === 1 ? parts[0]! : Buffer.concat(parts, filled));
          parts = [];
          filled = 0;
        }
      }
      while (pending.length >= IN_FLIGHT) yield await pending.shift()!;
    }
    if (filled > 0) submit(Buffer.concat(parts, filled));
    while (pending.length > 0) yield await pending.shift()!;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(total % 2 ** 32, 4);
    yield Buffer.concat([FINAL_BLOCK, trailer]);
  });
}

async function deflateBlock(block: Buffer, level: number): Promise<Buffer> {
  const sample = block.subarray(0, 32 * 1024);
  if (deflateRawSync(sample, { level: 1 }).length >= sample.length * 0.98) return storedBlocks(block);
  return deflateRawAsync(block, { level, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: ZLIB_CHUNK });
}

/** Deflate's stored blocks (BTYPE 00, not final), at most 65535 bytes each. */
function storedBlocks(data: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += 65535) {
    const piece = data.subarray(off, off + 65535);
    const head = Buffer.alloc(5);
    head.writeUInt16LE(piece.length, 1);
    head.writeUInt16LE(~piece.length & 0xffff, 3);
    out.push(head, piece);
  }
  return Buffer.concat(out);
}
