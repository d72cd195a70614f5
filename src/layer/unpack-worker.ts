import { createReadStream } from "node:fs";
import { parentPort } from "node:worker_threads";
import { unpackLayer } from "./unpack.js";

export interface UnpackJob {
  id: number;
  path: string;
  dest: string;
  expectedDiffId?: string;
  asRoot?: boolean;
}

/** Worker side of the unpack pool: unpacks layer files it is sent, one at a time. */
parentPort?.on("message", (job: UnpackJob) => {
  unpackLayer({
    source: createReadStream(job.path, { highWaterMark: 1024 * 1024 }),
    dest: job.dest,
    expectedDiffId: job.expectedDiffId,
    asRoot: job.asRoot,
  }).then(
    (result) => parentPort!.postMessage({ id: job.id, result }),
    (err: Error & { code?: string; expected?: string; actual?: string; entry?: string }) =>
      parentPort!.postMessage({
        id: job.id,
        error: {
          name: err.name,
          message: err.message,
          code: err.code,
          expected: err.expected,
          actual: err.actual,
          entry: err.entry,
        },
      }),
  );
});
