import { parentPort } from "node:worker_threads";
import { CorruptLayerError, MissingToolError, UnsafeLayerError } from "./errors.js";
import { Extractor } from "./extractor.js";
import { TarReader } from "./tar.js";

/**
 * An unpack worker: for each job (one layer), parses the uncompressed tar that the main thread
 * streams to it in pooled buffers and writes the entries with synchronous fs calls. Each buffer
 * goes back with its ack, so a fixed set of buffers per job bounds memory and is the
 * backpressure. Several jobs interleave on one worker; each message names its job.
 */

export interface JobOptions {
  dest: string;
  asRoot: boolean;
  umask: number;
}

export type ToWorker =
  | { type: "start"; id: number; options: JobOptions }
  | { type: "chunk"; id: number; buffer: ArrayBuffer; length: number }
  | { type: "end"; id: number }
  | { type: "abort"; id: number };

export type SerializedError =
  | { kind: "unsafe"; entry: string; reason: string }
  | { kind: "corrupt"; message: string }
  | { kind: "missing-tool"; tool: string; debianPackage: string; purpose: string }
  | { kind: "error"; message: string; code?: string; syscall?: string; path?: string; stack?: string };

export type FromWorker =
  | { type: "ack"; id: number; buffer: ArrayBuffer }
  | { type: "done"; id: number; entries: number; contentSize: number; skipped: string[] }
  | { type: "error"; id: number; error: SerializedError };

function serialize(err: unknown): SerializedError {
  if (err instanceof UnsafeLayerError) return { kind: "unsafe", entry: err.entry, reason: err.reason };
  if (err instanceof CorruptLayerError) return { kind: "corrupt", message: err.message };
  if (err instanceof MissingToolError)
    return { kind: "missing-tool", tool: err.tool, debianPackage: err.debianPackage, purpose: err.purpose };
  const e = err as NodeJS.ErrnoException;
  return {
    kind: "error",
    message: String(e?.message ?? err),
    code: e?.code,
    syscall: e?.syscall,
    path: e?.path,
    stack: e?.stack,
  };
}

interface Job {
  extractor: Extractor;
  reader: TarReader;
}

const port = parentPort!;
const jobs = new Map<number, Job>();
/** Jobs that failed here: their remaining chunks are dropped. */
const failed = new Set<number>();

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer);
}

port.on("message", (msg: ToWorker) => {
  const job = jobs.get(msg.id);
  try {
    switch (msg.type) {
      case "start": {
        const extractor = new Extractor(msg.options.dest, msg.options);
        jobs.set(msg.id, { extractor, reader: new TarReader(extractor) });
        return;
      }
      case "chunk":
        if (job && !job.reader.finished) job.reader.push(Buffer.from(msg.buffer, 0, msg.length));
        if (!failed.has(msg.id)) post({ type: "ack", id: msg.id, buffer: msg.buffer }, [msg.buffer]);
        return;
      case "end":
        if (!job) return;
        jobs.delete(msg.id);
        job.reader.end();
        job.extractor.finish();
        post({
          type: "done",
          id: msg.id,
          entries: job.extractor.entries,
          contentSize: job.extractor.contentSize,
          skipped: job.extractor.skipped,
        });
        return;
      case "abort":
        jobs.delete(msg.id);
        failed.delete(msg.id);
        job?.extractor.abort();
        return;
    }
  } catch (err) {
    jobs.delete(msg.id);
    failed.add(msg.id);
    job?.extractor.abort();
    post({ type: "error", id: msg.id, error: serialize(err) });
  }
});
