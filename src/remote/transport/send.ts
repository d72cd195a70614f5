import type { Dispatcher } from "undici";
import { NetworkError, RemoteError } from "../errors.js";
import type { Endpoint } from "./endpoint.js";
import { type ConnectionPool, MAX_REDIRECTIONS } from "./pool.js";
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
    let res: Dispatcher.ResponseData;
    try {
      res = await pool.for(url.origin).request({
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
    // The pool follows redirects (of requests whose body can be sent again): one that comes back is one too many.
    const location = res.headers.location;
    const replayable =
      req.body === undefined || typeof req.body === "string" || req.body instanceof Uint8Array;
    if (REDIRECTS.has(res.statusCode) && location && replayable) {
      await res.body.dump();
      throw new RemoteError(
        res.statusCode,
        "TOO_MANY_REDIRECTS",
        `${url}: more than ${MAX_REDIRECTIONS} redirects (the last to ${String(location).slice(0, 200)})`,
      );
    }
    return res;
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** undici's words for a silent server and a redirect loop said as what happened, the code kept for the retry decision. */
function inWords(err: unknown, options: SendOptions): unknown {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  let words: string | undefined;
  if (code === "UND_ERR_HEADERS_TIMEOUT") words = `no answer within ${options.headersTimeoutMs / 1000} s`;
  else if (typeof message === "string" && message.startsWith("Redirect loop detected")) {
    words = "a redirect loop: the server sends the request back where it came from";
  }
  return words ? Object.assign(new Error(words), { code, cause: err }) : err;
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
