import { setTimeout as sleep } from "node:timers/promises";

/**
 * When a request to a registry is worth repeating, and how long to wait first: exponential
 * backoff with jitter, or what the registry's Retry-After asks for. The defaults are Docker's
 * (`max-download-attempts` 5, and 5 attempts for uploads).
 */
export interface RetryPolicy {
  /** Tries in all, the first included: 1 means no retry. */
  attempts: number;
  /** The first wait; each later one doubles, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 };

/** Longest wait a Retry-After gets: a registry asking for more is asked again after this. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Statuses that say "not now" rather than "no": 408, 429, and 5xx except 501 Not Implemented
 * and 505 (which will not change on a second try).
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Socket-level failures undici and Node report for a connection refused, reset, cut short or stalled. */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "BLOB_CUT_SHORT",
]);

/** Whether an error thrown while sending a request or reading its answer may pass on a retry. */
export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  }
  return false;
}

/** A Retry-After value (seconds, or an HTTP date) in milliseconds, or undefined when absent or unusable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before try number `attempt + 1` (attempt counts from 1): half the exponential step
 * fixed, half random, so clients that failed together do not come back together. A Retry-After
 * wins when the registry sent one.
 */
export function retryDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return step / 2 + Math.random() * (step / 2);
}

export function backoff(attempt: number, policy: RetryPolicy, retryAfterMs?: number): Promise<void> {
  return sleep(retryDelay(attempt, policy, retryAfterMs)) as Promise<void>;
}
