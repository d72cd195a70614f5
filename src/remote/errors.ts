import { BerthError } from "../errors.js";
/** An error answer from a registry, parsed from the distribution spec's error body. */
export class RemoteError extends BerthError {
  override readonly name = "RemoteError";
  /** The registry's own words, without the context the message adds. */
  readonly reason: string;
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

  static async fromResponse(status: number, body: string, what: string): Promise<RemoteError> {
    try {
      const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
      const first = parsed.errors?.[0];
      if (first?.code) {
        return new RemoteError(status, first.code, first.message || first.code.toLowerCase(), first.detail);
      }
    } catch {
      // not a spec error body: fall through
    }
    const code =
      status === 401 ? "UNAUTHORIZED" : status === 403 ? "DENIED" : status === 404 ? "NOT_FOUND" : "UNKNOWN";
    return new RemoteError(
      status,
      code,
      `${what}: HTTP ${status}${body ? `: ${body.slice(0, 200).trim()}` : ""}`,
    );
  }
}

/** A registry could not be reached, or the connection broke. */
export class NetworkError extends BerthError {
  override readonly name = "NetworkError";
  override readonly code = "NETWORK";
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach ${url}: ${(cause as Error).message ?? String(cause)}`, { cause });
  }
}

/** A login the registry refused; the message is the part docker prints after "Error response from daemon: ". */
export class LoginError extends BerthError {
  override readonly name = "LoginError";
  override readonly code = "LOGIN";
}
