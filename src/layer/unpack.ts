import { availableParallelism } from "node:os";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Worker } from "node:worker_threads";
import { Digester } from "../oci/digest.js";
import { type Compression, decompressStream, detectCompression, peek } from "./compression.js";
import { CorruptLayerError, DiffIdMismatchError, MissingToolError, UnsafeLayerError } from "./errors.js";
import type { FromWorker, JobOptions, SerializedError, ToWorker } from "./unpack-worker.js";

export { cleanName } from "./extractor.js";

export interface UnpackOptions {
  /** The layer blob: a tar, gzip- or zstd-compressed (detected from its first bytes). */
  source: Readable;
  /**
   * A fresh, empty directory. On error it is left in an undefined state (partly unpacked, and
   * possibly unpacked in full when only the diff_id is wrong): unpack into a temporary
   * directory and rename it into place on success.
   */
  dest: string;
  /** The diff_id from the image config: the sha256 of the uncompressed tar. */
  expectedDiffId?: string;
  /** Advisory only: the compression is taken from the bytes, which cannot lie about it. */
  mediaType?: string;
  /** Keep owners, device nodes, xattrs and write overlayfs whiteouts (default: running as root). */
  asRoot?: boolean;
}

export interface UnpackResult {
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** The layer's size as Docker counts it: file contents and symlink targets, each inode once (size.ts). */
  contentSize: number;
  entries: number;
  compression: Compression;
  /** Entries not created: device nodes and fifos when not running as root. */
  skipped: string[];
}

/** Bytes per buffer handed to the worker, and how many are in flight at most (the memory bound). */
const BUFFER_SIZE = 1024 * 1024;
const BUFFERS = 2;

/**
 * Unpacks a layer into its own directory, the overlay2 way: whiteouts become overlayfs
 * whiteouts (0/0 character devices, and the trusted.overlay.opaque xattr) when running as root,
 * and stay as ".wh." marker files otherwise. Nothing is written outside `dest`: paths with ".."
 * or a leading "/" are refused, no entry is written through a symlink, and hard links must point
 * at an earlier entry of the same layer (UnsafeLayerError, naming the entry).
 *
 * This thread decompresses (zlib's thread pool, or a zstd process) and hashes the tar for its
 * diff_id; a worker thread parses it and writes the files with synchronous calls, so downloads
 * on this thread go on meanwhile. A mismatching diff_id is a DiffIdMismatchError at the end.
 */
export async function unpackLayer(opts: UnpackOptions): Promise<UnpackResult> {
  const asRoot = opts.asRoot ?? process.getuid?.() === 0;
  const { head, stream } = await peek(opts.source, 4);
  const compression = detectCompression(head);
  const digester = new Digester("sha256");
  const { worker, job } = startJob({ dest: opts.dest, asRoot, umask: process.umask() });
  const abort = new AbortController();
  job.onFailure = () => abort.abort();
  try {
    const feed = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of chunks) {
        digester.update(chunk);
        await job.write(chunk);
      }
      await job.end();
    };
    if (compression === "none") await pipeline(stream, feed, { signal: abort.signal });
    else await pipeline(stream, decompressStream(compression), feed, { signal: abort.signal });
    const { entries, contentSize, skipped } = await job.done;
    const diffId = digester.digest();
    if (opts.expectedDiffId !== undefined && !diffId.equals(opts.expectedDiffId))
      throw new DiffIdMismatchError(opts.expectedDiffId, diffId.toString());
    return { diffId: diffId.toString(), size: digester.bytes, contentSize, entries, compression, skipped };
  } catch (err) {
    // The worker's error is the cause; the pipeline only saw the abort that followed it.
    throw job.error ?? err;
  } finally {
    worker.finish(job);
  }
}

/** A worker per two cores: the main thread and zlib's threads need the rest, and each is an isolate. */
const MAX_WORKERS = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
/** An idle worker is kept this long for the next layer of the same pull. */
const IDLE_MS = 2000;

/** A worker thread shared by concurrent unpacks; it is unreferenced (and soon ended) when idle. */
class UnpackWorker {
  readonly jobs = new Map<number, WorkerJob>();
  private readonly worker: Worker;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly onGone: (w: UnpackWorker) => void) {
    this.worker = new Worker(new URL("./unpack-worker.js", import.meta.url), {
      // A worker is a whole V8 isolate; small heaps keep it cheap. It holds no data on its heap:
      // the tar arrives in transferred buffers.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    });
    this.worker.on("message", (msg: FromWorker) => {
      const job = this.jobs.get(msg.id);
      if (!job) return;
      if (msg.type === "ack") job.acked(msg.buffer);
      else if (msg.type === "done") job.succeeded(msg);
      else job.failed(deserialize(msg.error));
    });
    const gone = (err: Error) => {
      this.onGone(this);
      for (const job of this.jobs.values()) job.failed(err);
      this.jobs.clear();
    };
    this.worker.on("error", gone);
    this.worker.on("exit", () => gone(new Error("the unpack worker stopped unexpectedly")));
  }

  start(id: number, options: JobOptions): WorkerJob {
    clearTimeout(this.idleTimer);
    this.worker.ref();
    const job = new WorkerJob(id, (msg, transfer) => this.worker.postMessage(msg, transfer));
    this.jobs.set(id, job);
    this.worker.postMessage({ type: "start", id, options } satisfies ToWorker);
    return job;
  }

  finish(job: WorkerJob): void {
    this.worker.postMessage({ type: "abort", id: job.id } satisfies ToWorker);
    this.jobs.delete(job.id);
    if (this.jobs.size > 0) return;
    this.worker.unref();
    this.idleTimer = setTimeout(() => {
      this.onGone(this);
      this.worker.removeAllListeners("exit");
      void this.worker.terminate();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}

const workers: UnpackWorker[] = [];
let nextJob = 1;

/** The least busy worker, or a new one while there are fewer than MAX_WORKERS. */
function startJob(options: JobOptions): { worker: UnpackWorker; job: WorkerJob } {
  let worker = workers.reduce<UnpackWorker | undefined>(
    (best, w) => (!best || w.jobs.size < best.jobs.size ? w : best),
    undefined,
  );
  if (!worker || (worker.jobs.size > 0 && workers.length < MAX_WORKERS)) {
    worker = new UnpackWorker((w) => {
      const i = workers.indexOf(w);
      if (i >= 0) workers.splice(i, 1);
    });
    workers.push(worker);
  }
  return { worker, job: worker.start(nextJob++, options) };
}

type JobResult = { entries: number; contentSize: number; skipped: string[] };

/** One layer on a worker: pooled buffers out, acks (with the buffers) back. */
class WorkerJob {
  readonly done: Promise<JobResult>;
  error: Error | undefined;
  onFailure: () => void = () => {};
  private settle!: {
    resolve: (r: JobResult) => void;
    reject: (e: Error) => void;
  };
  private settled = false;
  private readonly free: ArrayBuffer[] = [];
  private allocated = 0;
  private current: Uint8Array | undefined;
  private fill = 0;
  private waiting: (() => void) | undefined;

  constructor(
    readonly id: number,
    private readonly post: (msg: ToWorker, transfer?: ArrayBuffer[]) => void,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A failure is also seen through write() and end(); this keeps it from being "unhandled".
    this.done.catch(() => {});
  }

  async write(chunk: Buffer): Promise<void> {
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.current) this.current = new Uint8Array(await this.buffer());
      const n = Math.min(chunk.length - pos, BUFFER_SIZE - this.fill);
      this.current.set(chunk.subarray(pos, pos + n), this.fill);
      this.fill += n;
      pos += n;
      if (this.fill === BUFFER_SIZE) this.flush();
    }
  }

  async end(): Promise<void> {
    if (this.error) throw this.error;
    this.flush();
    this.post({ type: "end", id: this.id });
    await this.done;
  }

  acked(buffer: ArrayBuffer): void {
    this.free.push(buffer);
    this.wake();
  }

  succeeded({ entries, contentSize, skipped }: JobResult): void {
    this.settled = true;
    this.settle.resolve({ entries, contentSize, skipped });
  }

  failed(err: Error): void {
    if (this.error || this.settled) return;
    this.error = err;
    this.settle.reject(err);
    this.wake();
    this.onFailure();
  }

  private flush(): void {
    if (!this.current || this.fill === 0) return;
    const buffer = this.current.buffer as ArrayBuffer;
    this.post({ type: "chunk", id: this.id, buffer, length: this.fill }, [buffer]);
    this.current = undefined;
    this.fill = 0;
  }

  private async buffer(): Promise<ArrayBuffer> {
    for (;;) {
      if (this.error) throw this.error;
      const free = this.free.pop();
      if (free) return free;
      if (this.allocated < BUFFERS) {
        this.allocated++;
        return new ArrayBuffer(BUFFER_SIZE);
      }
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

function deserialize(e: SerializedError): Error {
  switch (e.kind) {
    case "unsafe":
      return new UnsafeLayerError(e.entry, e.reason);
    case "corrupt":
      return new CorruptLayerError(e.message);
    case "missing-tool":
      return new MissingToolError(e.tool, e.debianPackage, e.purpose);
    default: {
      // A system error (ENOSPC, EACCES) stays one: the CLI words it as the user's problem, not a bug.
      const err = new Error(e.message) as NodeJS.ErrnoException;
      if (e.code) err.code = e.code;
      if (e.syscall) err.syscall = e.syscall;
      if (e.path) err.path = e.path;
      if (e.stack) err.stack = e.stack;
      return err;
    }
  }
}
