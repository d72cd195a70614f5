import type { Credentials } from "../../credentials/docker-config.js";
import { RemoteError } from "../errors.js";
import type { TlsTrust } from "../tls-trust.js";
import { Authenticator, type CredentialSource, withAuth } from "./auth.js";
import { Endpoint } from "./endpoint.js";
import { login } from "./login.js";
import { type PingResult, pingEndpoint, withPing } from "./ping.js";
import { ConnectionPool } from "./pool.js";
import { compose, type Send, type TransportRequest, type TransportResponse } from "./request.js";
import { withRetries } from "./retry.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry-policy.js";
import { DEFAULT_SEND_OPTIONS, sendOnPool } from "./send.js";
import { TokenService } from "./token.js";

export interface RegistryClientOptions {
  /** The registry as references name it: "docker.io", "ghcr.io", "host:5000". */
  host: string;
  /** The credentials to answer its challenges with, or how to look them up. */
  credentials?: CredentialSource;
  /** Tries of reads (GET, HEAD; token requests too) and of writes; Docker's defaults when absent. */
  retry?: { download?: RetryPolicy; upload?: RetryPolicy };
  /** CAs to trust and a client certificate (certs.d); used for its token service too. */
  tls?: TlsTrust;
  /** Docker's insecure registry: HTTPS without checking the certificate, else plain HTTP. */
  insecure?: boolean;
  userAgent?: string;
  /** How long to wait for an answer's headers, and for the next piece of a body. */
  timeouts?: { headersMs?: number; bodyMs?: number };
}

/** A client of one registry, built from its own credentials, retry settings and TLS trust. */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  return new RegistryClient(options);
}

/**
 * HTTP to one registry, as layers around a connection pool (go-containerregistry's
 * `transport/` is the model):
 *
 *   ping (scheme; challenge before a streamed body) → auth (the 401 loop: Basic, Bearer
 *   tokens) → retries (policy by method) → pool (timeouts, User-Agent, redirects)
 *
 * Token requests go through the pool with the same retry policy; login uses the ping, the
 * token service and the retries without the auth layer. Everything above (repository
 * operations, resumable downloads, upload resumption) calls `request`.
 */
export class RegistryClient {
  readonly registry: string;
  private readonly endpoint: Endpoint;
  private readonly pool: ConnectionPool;
  private readonly auth: Authenticator;
  private readonly tokens: TokenService;
  /** The pool alone: one try. */
  private readonly once: Send;
  /** The pool with retries, without authentication. */
  private readonly retried: Send;
  /** The whole stack. */
  private readonly send: Send;
  private pinging?: Promise<PingResult>;

  constructor(private readonly options: RegistryClientOptions) {
    this.registry = options.host;
    this.endpoint = new Endpoint(options.host, options.insecure ?? false);
    this.pool = new ConnectionPool(options.tls, this.endpoint.unverifiedOrigin);
    this.once = sendOnPool(this.endpoint, this.pool, {
      userAgent: options.userAgent ?? DEFAULT_SEND_OPTIONS.userAgent,
      headersTimeoutMs: options.timeouts?.headersMs ?? DEFAULT_SEND_OPTIONS.headersTimeoutMs,
      bodyTimeoutMs: options.timeouts?.bodyMs ?? DEFAULT_SEND_OPTIONS.bodyTimeoutMs,
    });
    const retries = withRetries((method) => this.policy(method));
    this.retried = compose(this.once, retries);
    this.tokens = new TokenService(this.once, () => this.policy("GET"));
    this.auth = new Authenticator(options.host, options.credentials, this.tokens);
    const needsPing = (req: TransportRequest) =>
      !this.endpoint.settled || (req.streaming === true && this.auth.challenge === undefined);
    this.send = compose(
      this.once,
      withPing(needsPing, () => this.sharedPing()),
      withAuth(this.auth),
      retries,
    );
  }

  /** The scheme and host requests go to ("https://ghcr.io"); for an insecure registry, known after the first request. */
  get baseUrl(): string {
    return this.endpoint.baseUrl;
  }

  request(req: TransportRequest): Promise<TransportResponse> {
    return this.send(req);
  }

  /** Reads a whole small response body, turning error statuses into RemoteError. */
  async json<T>(req: TransportRequest, what: string): Promise<{ value: T; res: TransportResponse }> {
    const res = await this.request(req);
    const text = await res.body.text();
    if (res.statusCode >= 400) throw await RemoteError.fromResponse(res.statusCode, text, what);
    return { value: JSON.parse(text) as T, res };
  }

  resolve(location: string): URL {
    return new URL(location, this.endpoint.baseUrl);
  }

  /** GET /v2/, learning the registry's challenge (and, for an insecure registry, its scheme). */
  async ping(): Promise<PingResult> {
    const result = await pingEndpoint(this.endpoint, this.once, this.retried);
    this.auth.challenge = result.challenge;
    return result;
  }

  /** Checks credentials as `docker login` does; returns the refresh token to keep, if any. */
  login(creds: Credentials): Promise<{ identityToken?: string }> {
    return login(
      { baseUrl: () => this.baseUrl, ping: () => this.ping(), send: this.retried, tokens: this.tokens },
      creds,
    );
  }

  /** The retry policy for a request: reads use the download attempts, everything else the upload ones. */
  policy(method: string): RetryPolicy {
    const read = method === "GET" || method === "HEAD";
    return (read ? this.options.retry?.download : this.options.retry?.upload) ?? DEFAULT_RETRY;
  }

  /** Closes the connections this client owns (clients without TLS settings share a pool that stays). */
  close(): Promise<void> {
    return this.pool.close();
  }

  private sharedPing(): Promise<PingResult> {
    this.pinging ??= this.ping().finally(() => {
      this.pinging = undefined;
    });
    return this.pinging;
  }
}
