import type { Dispatcher } from "undici";
import { NetworkError, RemoteError } from "../errors.js";
import type { Endpoint } from "./endpoint.js";
import type { ConnectionPool } from "./pool.js";
import type { Send } from "./request.js";

export interface SendOptions {
  userAgent: string;
  /** How long to wait for an answer's headers. */
  headersTimeoutMs: number;
  /** How long a body may pause between two pieces. */
  bodyTimeoutMs: number;
}

export const DEFAULT_SEND_OPTIONS: SendOptions = {
  userAgent: "berth/0.1",
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 120_000,
};

/**
 * The bottom of a client: one request on the pool, to a path of the endpoint or an absolute
 * URL, with the User-Agent and the timeouts. A failure to connect or a silence past the
 * timeout becomes a NetworkError naming the URL; nothing is repeated here.
 */
export function sendOnPool(endpoint: Endpoint, pool: ConnectionPool, options: SendOptions): Send {
  return async (req) => {
    const url = new URL(req.path, endpoint.baseUrl);
    const headers: Record<string, string> = { "User-Agent": options.userAgent, ...req.headers };
    try {
      return await pool.for(url.origin).request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers,
        body: req.body as Dispatcher.DispatchOptions["body"],
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
      });
    } catch (err) {
      if (err instanceof RemoteError) throw err;
      throw new NetworkError(url.toString(), inWords(err, options));
    }
  };
}

/** undici's "Headers Timeout Error" said as what happened, its code kept for the retry decision. */
function inWords(err: unknown, options: SendOptions): unknown {
  const code = (err as { code?: unknown })?.code;
  if (code !== "UND_ERR_HEADERS_TIMEOUT") return err;
  const seconds = options.headersTimeoutMs / 1000;
  return Object.assign(new Error(`no answer within ${seconds} s`), { code, cause: err });
}

/**
 * A small body (an error answer, a token) as text, at most `limit` bytes of it: a server that
 * sends more is not read further; `truncated` says whether it did.
 */
export async function readText(
  body: AsyncIterable<unknown>,
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const piece of body) {
    const chunk = piece as Buffer;
    if (size + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - size));
      // Leaving the loop destroys the body: the rest is never read.
      return { text: Buffer.concat(chunks).toString("utf8"), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}
