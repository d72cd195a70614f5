import type { Stats } from "node:fs";
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestTransform } from "../oci/digest.js";
import { type Compression, compressStream } from "./compression.js";
import { ChangedWhileReadError } from "./errors.js";
import { splitDevice, xattrsOf } from "./special-files.js";
import { compareStrings, END_OF_ARCHIVE, encodeHeader, padding, type TarHeaderFields } from "./tar.js";
import {
  isOpaqueValue,
  isWhiteoutDevice,
  OPAQUE_MARKER,
  OPAQUE_XATTR,
  WHITEOUT_PREFIX,
} from "./whiteouts.js";

export interface CreateLayerOptions {
  compression: Compression;
  /** gzip 1-9 (default 6), zstd 1-19 (default 3). */
  level?: number;
}

export interface CreatedLayer {
  /** sha256 of the tar: the image config's diff_id. */
  diffId: string;
  /** sha256 of the blob as sent: the manifest's layer digest. */
  digest: string;
  /** Bytes of the blob (compressed, unless compression is "none"). */
  size: number;
  /** Bytes of the tar. */
  uncompressedSize: number;
  /** The layer's size as Docker counts it: file contents and symlink targets, each inode once (size.ts). */
  contentSize: number;
}

export interface LayerStream {
  /** The layer blob; read it to the end, and `result` settles. */
  stream: Readable;
  result: Promise<CreatedLayer>;
}

/**
 * A layer blob from a directory unpacked by `unpackLayer` (or built in place): a deterministic
 * tar (entries sorted by name, depth first; whole-second times; no user or group names; PAX
 * records only for long or non-ASCII names and for xattrs), compressed as asked. Overlayfs
 * whiteouts (0/0 character devices, the opaque xattr) go back to their `.wh.` spelling, and
 * `.wh.` marker files of a rootless store pass through as they are. Equal trees give equal
 * bytes, so a layer that was unpacked and is pushed again keeps its diff_id when the tar it came
 * from was written the same way.
 */
export function createLayerFromDirectory(dir: string, opts: CreateLayerOptions): LayerStream {
  const tarHash = new DigestTransform();
  const blobHash = new DigestTransform();
  const counted = { contentSize: 0 };
  const tar = Readable.from(tarChunks(dir, counted), { objectMode: false, highWaterMark: 1024 * 1024 });
  const stages =
    opts.compression === "none"
      ? pipeline(tar, tarHash, blobHash)
      : pipeline(tar, tarHash, compressStream(opts.compression, opts.level), blobHash);
  const result = stages.then(() => ({
    diffId: tarHash.digester.digest().toString(),
    digest: blobHash.digester.digest().toString(),
    size: blobHash.digester.bytes,
    uncompressedSize: tarHash.digester.bytes,
    contentSize: counted.contentSize,
  }));
  result.catch(() => {}); // the error also reaches whoever reads the stream
  return { stream: blobHash, result };
}

/** Tar bytes, batched so that tens of thousands of small files are not as many stream chunks. */
async function* tarChunks(root: string, counted: { contentSize: number }): AsyncGenerator<Buffer> {
  const xattrs = xattrsOf(root);
  const hardlinks = new Map<string, string>();
  const BATCH = 1024 * 1024;
  let out: Buffer[] = [];
  let outBytes = 0;
  const emit = (b: Buffer) => {
    out.push(b);
    outBytes += b.length;
  };

  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const names = readdirSync(join(root, rel)).sort(compareStrings);
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(root, path);
      const st = lstatSync(full);
      const attrs = xattrs.get(path);
      const base = headerBase(path, st, attrs);
      if (isWhiteoutDevice(st)) {
        const marker = rel ? `${rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
        emit(encodeHeader({ ...base, name: marker, type: "file", xattrs: undefined }));
      } else if (st.isDirectory()) {
        emit(encodeHeader({ ...base, name: `${path}/`, type: "directory" }));
        if (isOpaqueValue(attrs?.get(OPAQUE_XATTR)))
          emit(
            encodeHeader({
              ...base,
              name: `${path}/${OPAQUE_MARKER}`,
              type: "file",
              mode: 0o644,
              xattrs: undefined,
            }),
          );
        yield* walk(path);
      } else if (st.isSymbolicLink()) {
        emit(encodeHeader({ ...base, type: "symlink", linkname: readlinkSync(full) }));
        counted.contentSize += st.size;
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? hardlinks.get(key) : undefined;
        if (first !== undefined) {
          emit(encodeHeader({ ...base, type: "link", linkname: first }));
        } else {
          if (st.nlink > 1) hardlinks.set(key, path);
          emit(encodeHeader({ ...base, type: "file", size: st.size }));
          counted.contentSize += st.size;
          yield* fileBody(full, st.size);
        }
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const { major, minor } = splitDevice(st.rdev);
        const type = st.isCharacterDevice() ? "character-device" : "block-device";
        emit(encodeHeader({ ...base, type, devmajor: major, devminor: minor }));
      } else if (st.isFIFO()) {
        emit(encodeHeader({ ...base, type: "fifo" }));
      }
      // Sockets have no tar form; a layer never needs one.
      if (outBytes >= BATCH) yield flush();
    }
  }

  async function* fileBody(full: string, size: number): AsyncGenerator<Buffer> {
    const fd = openSync(full, "r");
    try {
      let left = size;
      while (left > 0) {
        const buf = Buffer.allocUnsafe(Math.min(left, BATCH));
        const bytesRead = readSync(fd, buf, 0, buf.length, size - left);
        if (bytesRead === 0) throw new ChangedWhileReadError(`${full} shrank while it was being archived`);
        emit(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
        left -= bytesRead;
        if (outBytes >= BATCH) yield flush();
      }
      emit(Buffer.alloc(padding(size)));
    } finally {
      closeSync(fd);
    }
  }

  function flush(): Buffer {
    const b = out.length === 1 ? out[0]! : Buffer.concat(out, outBytes);
    out = [];
    outBytes = 0;
    return b;
  }

  yield* walk("");
  emit(END_OF_ARCHIVE);
  yield flush();
}

function headerBase(name: string, st: Stats, attrs: Map<string, Buffer> | undefined): TarHeaderFields {
  let xattrs: Map<string, Buffer> | undefined;
  for (const [k, v] of attrs ?? []) {
    // Overlayfs' own attributes describe this directory's role, not the image's content.
    if (k.startsWith("trusted.overlay.")) continue;
    xattrs ??= new Map();
    xattrs.set(k, v);
  }
  return {
    name,
    type: "file",
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    xattrs,
  };
}
