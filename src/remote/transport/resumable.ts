import { Readable } from "node:stream";
import { BerthError } from "../../errors.js";
import { NetworkError } from "../errors.js";
import { backoff, isTransientError, type RetryPolicy } from "./retry-policy.js";

/** A body opened at some offset: a registry that ignores Range starts at 0. */
export interface OpenedBody {
  body: AsyncIterable<unknown>;
  offset: number;
}

/** A body ended before its announced length (a connection closed cleanly, but early). */
export class BodyCutShortError extends BerthError {
  override readonly name = "BodyCutShortError";
  override readonly code = "BLOB_CUT_SHORT";
}

export interface ResumableOptions {
  first: OpenedBody;
  /** Where the body ends (absolute), when known: an earlier end is a cut, not the end. */
  end?: number;
  /** Tries in all, the first included, and the waits between them. */
  policy: RetryPolicy;
  /** Opens the body again from a position (a Range request). */
  reopen: (position: number) => Promise<OpenedBody>;
  /** What the body is, for messages: "blob sha256:…". */
  what: string;
  /** The URL, for a NetworkError when the tries are used up. */
  url: () => string;
}

/**
 * A download that survives broken connections: when the body breaks part-way (or ends short
 * of `end`), the rest is asked for from the position reached, up to the policy's attempts,
 * and an answer that starts earlier than asked (a 200 to a Range) has what was already
 * passed on skipped. The reader sees one unbroken stream; the caller verifies the digest.
 */
export function resumableBody(opts: ResumableOptions): Readable {
  const { first, end, policy, reopen, what, url } = opts;
  async function* resumable(): AsyncGenerator<Buffer> {
    let position = first.offset;
    let body = first.body;
    let skip = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const piece of body) {
          let chunk = piece as Buffer;
          if (skip > 0) {
            const dropped = Math.min(skip, chunk.length);
            skip -= dropped;
            chunk = chunk.subarray(dropped);
            if (chunk.length === 0) continue;
          }
          position += chunk.length;
          yield chunk;
        }
        if (end !== undefined && position < end) {
          throw new BodyCutShortError(`${what} ended after ${position} of ${end} bytes`);
        }
        return;
      } catch (err) {
        if (attempt >= policy.attempts || !isTransientError(err)) throw new NetworkError(url(), err, attempt);
      }
      await backoff(attempt, policy);
      const next = await reopen(position);
      body = next.body;
      skip = position - next.offset;
    }
  }
  return Readable.from(resumable(), { objectMode: false });
}
