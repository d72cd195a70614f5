import { STATUS_CODES } from "node:http";
import { BerthError } from "../errors.js";
/** An error answer from a registry, parsed from the distribution spec's error body. */
export class RemoteError extends BerthError {
  override readonly name = "RemoteError";
  /** The registry's own words, without the context the message adds. */
  readonly reason: string;
  /** How long the registry asked to wait before trying again (Retry-After), when it did. */
  retryAfterMs?: number;
  constructor(
    readonly status: number,
    override readonly code: string,
    message: string,
    readonly detail?: unknown,
    reason?: string,
  ) {
    super(message);
    this.reason = reason ?? message;
  }

  /**
   * The error of a failed answer. A distribution-spec error body gives the code and the
   * registry's words (`reason`); the message puts them after what was asked for, so an error
   * about a blob names the blob. Anything else (a web server's HTML page, a proxy's text) is
   * summarised by its status: a page is never pasted into a message.
   */
  static async fromResponse(status: number, body: string, what: string): Promise<RemoteError> {
    try {
      const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
      const first = parsed.errors?.[0];
      if (first?.code) {
        // Docker's errcode form, "blob unknown: blob unknown to registry": the code in words, then the message.
        const words = first.code.toLowerCase().replace(/_/g, " ");
        const reason = first.message || words;
        const text = reason.toLowerCase().startsWith(words) ? reason : `${words}: ${reason}`;
        return new RemoteError(status, first.code, `${what}: ${text}`, first.detail, reason);
      }
    } catch {
      // not a spec error body: fall through
    }
    const code =
      status === 401 ? "UNAUTHORIZED" : status === 403 ? "DENIED" : status === 404 ? "NOT_FOUND" : "UNKNOWN";
    const text = body.trim();
    const statusText = `${status} ${STATUS_CODES[status] ?? ""}`.trim();
    let reason: string;
    if (/^<(!doctype|html|\?xml|head|body)/i.test(text) || /<\/(html|body)>/i.test(text)) {
      reason = `the server answered ${statusText} with a web page, not a registry's answer: is this a registry?`;
    } else if (text && text.length <= 200 && !text.includes("\n")) {
      reason = `${statusText}: ${text}`;
    } else {
      reason = statusText;
    }
    return new RemoteError(status, code, `${what}: ${reason}`, undefined, reason);
  }
}

/** A registry could not be reached, or the connection broke. */
export class NetworkError extends BerthError {
  override readonly name = "NetworkError";
  override readonly code = "NETWORK";
  constructor(
    readonly url: string,
    cause: unknown,
    readonly attempts = 1,
  ) {
    super(`cannot reach ${url}${attempts > 1 ? ` (${attempts} attempts)` : ""}: ${describeCause(cause)}`, {
      cause,
    });
  }

  /** The same failure, saying how many tries it took. */
  after(attempts: number): NetworkError {
    return new NetworkError(this.url, this.cause, attempts);
  }
}

function describeCause(cause: unknown): string {
  const e = cause as { message?: string; code?: string };
  const message = e?.message || String(cause);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** A login the registry refused; the message is the part docker prints after "Error response from daemon: ". */
export class LoginError extends BerthError {
  override readonly name = "LoginError";
  override readonly code = "LOGIN";
}

/** A registry's Bearer challenge, or its token service's answer, that cannot be used. */
export class TokenServiceError extends BerthError {
  override readonly name = "TokenServiceError";
  override readonly code = "TOKEN_SERVICE";
}
