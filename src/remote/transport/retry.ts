import { NetworkError } from "../errors.js";
import type { Layer } from "./request.js";
import {
  backoff,
  isTransientError,
  isTransientStatus,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry-policy.js";

/** An answer as far as the retry decision needs it. */
interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Repeats a request after a connection that failed or broke, or an answer that says "try
 * later" (retry-policy.ts), with backoff, up to the policy's attempts for its method (reads
 * and writes have their own). A streamed body, or a request that says it must not be
 * repeated, is sent once: its caller resumes it the protocol's way. The last answer is
 * returned as it is.
 */
export function withRetries(policyFor: (method: string) => RetryPolicy): Layer {
  return (next) => (req) => {
    const policy = policyFor(req.method);
    const attempts = req.streaming || req.retry === false ? 1 : Math.max(1, policy.attempts);
    return retrying(
      policy,
      attempts,
      () => next(req),
      (res) => res.body.dump(),
    );
  };
}

/**
 * The retry loop itself, for anything that yields an answer: `once` makes one try, `discard`
 * lets go of an answer that will be tried again. A NetworkError thrown after several tries
 * says how many.
 */
export async function retrying<A extends Answer>(
  policy: RetryPolicy,
  attempts: number,
  once: () => Promise<A>,
  discard: (answer: A) => Promise<unknown>,
): Promise<A> {
  for (let attempt = 1; ; attempt++) {
    let answer: A;
    try {
      answer = await once();
    } catch (err) {
      if (attempt >= attempts || !isTransientError(err)) {
        throw attempt > 1 && err instanceof NetworkError ? err.after(attempt) : err;
      }
      await backoff(attempt, policy);
      continue;
    }
    if (attempt >= attempts || !isTransientStatus(answer.statusCode)) return answer;
    const wait = parseRetryAfter(answer.headers["retry-after"]);
    await discard(answer);
    await backoff(attempt, policy, wait);
  }
}
