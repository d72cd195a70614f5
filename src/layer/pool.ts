import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DiffIdMismatchError, UnsafeLayerError } from "./errors.js";
import type { UnpackResult } from "./unpack.js";
import type { UnpackJob } from "./unpack-worker.js";

interface Pending {
  resolve(result: UnpackResult): void;
  reject(err: Error): void;
}

interface WorkerError {
  name: string;
  message: string;
  code?: string;
  expected?: string;
  actual?: string;
  entry?: string;
}

/**
 * Unpacks layer files on worker threads, one layer per worker at a time, so that layers are
 * unpacked in parallel on every core and the main thread stays free for downloads. Workers
 * are started on demand and unref'd: an idle pool does not keep the process alive.
 */
export class UnpackPool {
  private readonly idle: Worker[] = [];
  private readonly queue: { job: Omit<UnpackJob, "id">; pending: Pending }[] = [];
  private readonly pending = new Map<number, Pending>();
  private workers = 0;
  private nextId = 0;

  constructor(private readonly size = Math.max(1, availableParallelism())) {}

  unpack(job: Omit<UnpackJob, "id">): Promise<UnpackResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, pending: { resolve, reject } });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker) {
        if (this.workers >= this.size) return;
        worker = this.spawn();
      }
      const { job, pending } = this.queue.shift()!;
      const id = this.nextId++;
      this.pending.set(id, pending);
      worker.ref();
      worker.postMessage({ ...job, id });
    }
  }

  private spawn(): Worker {
    const worker = new Worker(new URL("./unpack-worker.js", import.meta.url));
    this.workers++;
    worker.on("message", (msg: { id: number; result?: UnpackResult; error?: WorkerError }) => {
      const pending = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      worker.unref();
      this.idle.push(worker);
      if (msg.error) pending?.reject(rebuild(msg.error));
      else pending?.resolve(msg.result!);
      this.dispatch();
    });
    worker.on("error", (err) => {
      this.workers--;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(err);
      }
    });
    return worker;
  }
}

/** Typed errors cross the thread boundary as plain objects; give them their class back. */
function rebuild(e: WorkerError): Error {
  if (e.name === "DiffIdMismatchError") return new DiffIdMismatchError(e.expected ?? "", e.actual ?? "");
  if (e.name === "UnsafeLayerError") {
    const err = new UnsafeLayerError(e.entry ?? "", "");
    err.message = e.message;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return Object.assign(err, { code: e.code });
}

let shared: UnpackPool | undefined;

/** The process-wide pool. */
export function unpackPool(): UnpackPool {
  shared ??= new UnpackPool();
  return shared;
}
