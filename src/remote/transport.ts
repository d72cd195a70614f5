import { STATUS_CODES } from "node:http";
import { rootCertificates } from "node:tls";
import type { Dispatcher } from "undici";
import type { Credentials } from "../credentials/docker-config.js";
import { DEFAULT_REGISTRY } from "../oci/reference.js";
import { LoginError, NetworkError, RemoteError } from "./errors.js";
import {
  backoff,
  DEFAULT_RETRY,
  isTransientError,
  isTransientStatus,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry.js";
import type { TlsTrust } from "./tls-trust.js";
import { Agent, redirect } from "./undici-agent.js";

export type { Credentials };

export interface TransportOptions {
  /** Registries reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: string[];
  /** Looks up the credentials for a registry; asked once, when the registry first wants them. */
  credentials?: (registry: string) => Promise<Credentials | undefined>;
  userAgent?: string;
  /** CAs (and a client certificate) for this registry, from certs.d; used for its token service too. */
  tls?: TlsTrust;
  /** Retries of reads (GET, HEAD) and of writes; Docker's defaults when absent. */
  retry?: { download?: RetryPolicy; upload?: RetryPolicy };
}

/** A repository scope of Docker's token protocol: "repository:NAME:pull,push". */
export interface Scope {
  repository: string;
  actions: ("pull" | "push" | "delete")[];
}

interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

interface Token {
  token: string;
  expiresAt: number;
  /** An OAuth2 refresh token, which a login keeps as the identity token. */
  refreshToken?: string;
}

interface Authorization {
  header: string;
  /** Taken from the token cache rather than fetched for this request. */
  cached: boolean;
}

export type RequestOptions = {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  /** undici also takes an async iterable (its docs list it; its types do not yet). */
  body?: Dispatcher.DispatchOptions["body"] | AsyncIterable<Uint8Array>;
  /** What the request needs of the token service; a cross-repository mount needs two repositories. */
  scope?: Scope | Scope[];
  /** A body that cannot be sent twice: the request is authorised before it is sent, and never repeated here. */
  streaming?: boolean;
  /**
   * Whether this layer may repeat the request on a transient failure. Default: yes, unless the
   * body is streamed. A request whose effect cannot be checked afterwards must say no.
   */
  retry?: boolean;
};

const AGENT_OPTIONS = { connections: 16, keepAliveTimeout: 30_000, pipelining: 1 };
const sharedAgent = new Agent(AGENT_OPTIONS).compose(redirect({ maxRedirections: 5 }));

/** A pool of its own for a registry with extra CAs: Node's `ca` replaces the system roots, so add them back. */
function agentTrusting(tls: TlsTrust): Dispatcher {
  return new Agent({
    ...AGENT_OPTIONS,
    connect: { ca: [...rootCertificates, ...tls.ca.map((c) => c.toString())], cert: tls.cert, key: tls.key },
  }).compose(redirect({ maxRedirections: 5 }));
}

/** Whether Docker would talk plain HTTP to this registry by default: localhost and loopback. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The HTTP endpoint of a registry name as references spell it (docker.io is served by registry-1.docker.io). */
export function registryBaseUrl(registry: string, insecure: string[] = []): string {
  const host = registry === DEFAULT_REGISTRY ? "registry-1.docker.io" : registry;
  const plain = isLoopbackRegistry(registry) || insecure.includes(registry);
  return `${plain ? "http" : "https"}://${host}`;
}

/** "repository:NAME:pull,push" strings for a request's scopes, one per repository. */
export function scopeStrings(scope: Scope | Scope[] | undefined): string[] {
  const list = scope === undefined ? [] : Array.isArray(scope) ? scope : [scope];
  const byRepository = new Map<string, Set<string>>();
  for (const s of list) {
    const actions = byRepository.get(s.repository) ?? new Set<string>();
    for (const a of s.actions) actions.add(a);
    byRepository.set(s.repository, actions);
  }
  return [...byRepository].map(([name, actions]) => `repository:${name}:${[...actions].join(",")}`);
}

/**
 * HTTP to one registry: a keep-alive connection pool, redirects followed (blobs are often served
 * from elsewhere), and WWW-Authenticate challenges answered with Basic credentials or Bearer
 * tokens from the registry's token service, cached per scope set until they expire. A 401 that
 * more credentials cannot cure and a 403 become RemoteErrors ("unauthorized: …", "denied: …").
 */
export class RegistryTransport {
  readonly baseUrl: string;
  private challenge?: Challenge | null;
  private readonly tokens = new Map<string, Token>();
  private credentials?: Promise<Credentials | undefined>;
  private pinging?: Promise<void>;
  private readonly agent: Dispatcher;

  constructor(
    readonly registry: string,
    private readonly options: TransportOptions = {},
  ) {
    this.baseUrl = registryBaseUrl(registry, options.insecureRegistries);
    this.agent = options.tls ? agentTrusting(options.tls) : sharedAgent;
  }

  async request(opts: RequestOptions): Promise<Dispatcher.ResponseData> {
    // One GET /v2/ for all the uploads that start together.
    if (opts.streaming && this.challenge === undefined) {
      this.pinging ??= this.ping().finally(() => {
        this.pinging = undefined;
      });
      await this.pinging;
    }
    let auth = await this.authorization(opts.scope, false);
    for (let attempt = 0; ; attempt++) {
      const res = await this.sendWithRetries(opts, auth?.header);
      if (res.statusCode === 403) throw this.denied(await res.body.text());
      if (res.statusCode !== 401) return res;
      const header = res.headers["www-authenticate"];
      const text = await res.body.text();
      const challenge = parseChallenge(Array.isArray(header) ? header[0] : header);
      // Two retries at most: one to answer the first challenge, one to replace a token it refuses.
      if (attempt < 2 && !opts.streaming && challenge && worthRetrying(auth, challenge, opts.scope)) {
        this.challenge = challenge;
        auth = await this.authorization(opts.scope, true);
        if (auth) continue;
      }
      throw await this.unauthorized(text);
    }
  }

  /** Reads a whole small response body, turning error statuses into RemoteError. */
  async json<T>(opts: RequestOptions, what: string): Promise<{ value: T; res: Dispatcher.ResponseData }> {
    const res = await this.request(opts);
    const text = await res.body.text();
    if (res.statusCode >= 400) throw await RemoteError.fromResponse(res.statusCode, text, what);
    return { value: JSON.parse(text) as T, res };
  }

  resolve(location: string): URL {
    return new URL(location, this.baseUrl);
  }

  /** GET /v2/ to learn whether and how the registry wants clients to authenticate. */
  async ping(): Promise<void> {
    const res = await this.send({ method: "GET", path: "/v2/" }, undefined);
    const header = res.headers["www-authenticate"];
    await res.body.dump();
    this.challenge =
      res.statusCode === 401 ? (parseChallenge(Array.isArray(header) ? header[0] : header) ?? null) : null;
  }

  /**
   * Checks credentials as `docker login` does, storing nothing: GET /v2/; on a Basic challenge
   * the same with the credentials; on a Bearer challenge a token for the account from the realm,
   * then GET /v2/ with it. Returns the refresh token the token service may hand out for keeping.
   */
  async login(creds: Credentials): Promise<{ identityToken?: string }> {
    const endpoint = `${this.baseUrl}/v2/`;
    const first = await this.send({ method: "GET", path: "/v2/" }, undefined);
    const header = first.headers["www-authenticate"];
    await first.body.dump();
    if (first.statusCode === 200) return {};
    const challenge = parseChallenge(Array.isArray(header) ? header[0] : header);
    if (first.statusCode !== 401 || !challenge) throw loginFailed(endpoint, first.statusCode);
    let auth: string;
    let identityToken: string | undefined;
    if (challenge.scheme === "basic") {
      auth = basic(creds);
    } else {
      let token: Token;
      try {
        token = await this.fetchToken(challenge, [], creds, true);
      } catch (err) {
        if (err instanceof RemoteError && err.status === 401) {
          throw new LoginError(`Get "${endpoint}": unauthorized: ${err.reason}`);
        }
        throw err;
      }
      auth = `Bearer ${token.token}`;
      identityToken = token.refreshToken;
    }
    const second = await this.send({ method: "GET", path: "/v2/" }, auth);
    const text = await second.body.text();
    if (second.statusCode === 200) return { identityToken };
    if (second.statusCode === 401) {
      throw new LoginError(
        `Get "${endpoint}": unauthorized: ${serverMessage(text) ?? "authentication required"}`,
      );
    }
    throw loginFailed(endpoint, second.statusCode);
  }

  /** The retry policy for a request: reads use the download attempts, everything else the upload ones. */
  policy(method: string): RetryPolicy {
    const read = method === "GET" || method === "HEAD";
    return (read ? this.options.retry?.download : this.options.retry?.upload) ?? DEFAULT_RETRY;
  }

  /**
   * Sends a request, repeating it after a connection that failed or broke, or an answer that
   * says "try later" (429 with its Retry-After, 5xx but 501), with backoff. A streamed body is
   * sent once: its caller resumes it the protocol's way. The last answer is returned as it is.
   */
  private async sendWithRetries(
    opts: RequestOptions,
    auth: string | undefined,
  ): Promise<Dispatcher.ResponseData> {
    const policy = this.policy(opts.method);
    const attempts = opts.streaming || opts.retry === false ? 1 : Math.max(1, policy.attempts);
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await this.send(opts, auth);
      } catch (err) {
        if (attempt >= attempts || !isTransientError(err)) {
          throw attempt > 1 && err instanceof NetworkError ? err.after(attempt) : err;
        }
        await backoff(attempt, policy);
        continue;
      }
      if (attempt >= attempts || !isTransientStatus(res.statusCode)) return res;
      const wait = parseRetryAfter(res.headers["retry-after"]);
      await res.body.dump();
      await backoff(attempt, policy, wait);
    }
  }

  private async send(opts: RequestOptions, auth: string | undefined): Promise<Dispatcher.ResponseData> {
    const url = this.resolve(opts.path);
    const headers: Record<string, string> = {
      "User-Agent": this.options.userAgent ?? "berth/0.1",
      ...opts.headers,
    };
    if (auth) headers.Authorization = auth;
    try {
      return await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: opts.method,
        headers,
        body: opts.body as Dispatcher.DispatchOptions["body"],
        headersTimeout: 60_000,
        bodyTimeout: 120_000,
      });
    } catch (err) {
      if (err instanceof RemoteError) throw err;
      throw new NetworkError(url.toString(), err);
    }
  }

  private storedCredentials(): Promise<Credentials | undefined> {
    this.credentials ??= this.options.credentials?.(this.registry) ?? Promise.resolve(undefined);
    return this.credentials;
  }

  private async authorization(
    scope: Scope | Scope[] | undefined,
    refresh: boolean,
  ): Promise<Authorization | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const creds = await this.storedCredentials();
    if (challenge.scheme === "basic") {
      return creds && !creds.identityToken ? { header: basic(creds), cached: false } : undefined;
    }
    const scopes = scopeStrings(scope);
    // A request without a repository (the catalog) takes the scope the registry asked for.
    if (scopes.length === 0 && challenge.params.scope) scopes.push(...challenge.params.scope.split(" "));
    const key = [...scopes].sort().join(" ");
    const cached = this.tokens.get(key);
    if (cached && !refresh && cached.expiresAt > Date.now() + 5_000) {
      return { header: `Bearer ${cached.token}`, cached: true };
    }
    const token = await this.fetchToken(challenge, scopes, creds, false);
    this.tokens.set(key, token);
    return { header: `Bearer ${token.token}`, cached: false };
  }

  /**
   * A token from the challenge's realm: an OAuth2 refresh-token POST for an identity token,
   * else a GET with the account and Basic credentials, or anonymous when there are none.
   */
  private async fetchToken(
    challenge: Challenge,
    scopes: string[],
    creds: Credentials | undefined,
    forLogin: boolean,
  ): Promise<Token> {
    const realm = challenge.params.realm;
    if (!realm) throw new RemoteError(401, "UNAUTHORIZED", "the registry's Bearer challenge names no realm");
    const url = new URL(realm);
    const headers: Record<string, string> = { "User-Agent": this.options.userAgent ?? "berth/0.1" };
    let method: Dispatcher.HttpMethod = "GET";
    let body: string | undefined;
    if (creds?.identityToken) {
      method = "POST";
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: creds.identityToken,
        client_id: "berth",
      });
      if (challenge.params.service) form.set("service", challenge.params.service);
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      body = form.toString();
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else {
      if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (creds) {
        url.searchParams.set("account", creds.username);
        headers.Authorization = basic(creds);
      }
      if (forLogin) {
        url.searchParams.set("client_id", "berth");
        url.searchParams.set("offline_token", "true");
      }
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers,
        body,
      });
    } catch (err) {
      throw new NetworkError(`${url.origin}${url.pathname}`, err);
    }
    const text = await res.body.text();
    if (res.statusCode === 401) throw await this.unauthorized(text);
    if (res.statusCode === 403) throw this.denied(text);
    if (res.statusCode !== 200) throw await RemoteError.fromResponse(res.statusCode, text, "token request");
    let parsed: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new RemoteError(res.statusCode, "UNKNOWN", "the token service's answer is not JSON");
    }
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new RemoteError(401, "UNAUTHORIZED", "the token service answered without a token");
    // The token spec's default lifetime is 60 seconds when expires_in is absent.
    const lifetime = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : 60;
    return { token, expiresAt: Date.now() + lifetime * 1000, refreshToken: parsed.refresh_token };
  }

  private async unauthorized(body: string): Promise<RemoteError> {
    const message = serverMessage(body) ?? "authentication required";
    const creds = await this.storedCredentials();
    const hint = creds
      ? `the credentials stored for ${this.registry} were not accepted for this request`
      : `no credentials are stored for ${this.registry}; run "berth login${this.registry === DEFAULT_REGISTRY ? "" : ` ${this.registry}`}"`;
    return new RemoteError(401, "UNAUTHORIZED", `unauthorized: ${message} (${hint})`, undefined, message);
  }

  private denied(body: string): RemoteError {
    const message = serverMessage(body) ?? "requested access to the resource is denied";
    return new RemoteError(403, "DENIED", `denied: ${message}`, undefined, message);
  }
}

function basic(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}

function loginFailed(endpoint: string, status: number): LoginError {
  return new LoginError(
    `login attempt to ${endpoint} failed with status: ${status} ${STATUS_CODES[status] ?? ""}`,
  );
}

/**
 * Whether a 401 may be cured by asking again: nothing was sent yet, the token came from the
 * cache (it may have expired or been revoked early), the registry says the token is invalid,
 * or it asks for a scope the request did not name. Refused Basic credentials are final.
 */
function worthRetrying(
  sent: Authorization | undefined,
  challenge: Challenge,
  scope: Scope | Scope[] | undefined,
): boolean {
  if (!sent) return true;
  if (challenge.scheme === "basic" || sent.header.startsWith("Basic ")) return false;
  if (sent.cached || challenge.params.error === "invalid_token") return true;
  const asked = challenge.params.scope;
  return asked !== undefined && scopeStrings(scope).length === 0;
}

/** The human part of an error body: the spec's errors[0].message, or a token service's words. */
function serverMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as {
      errors?: { message?: string; code?: string }[];
      details?: string;
      error_description?: string;
      error?: string;
    };
    const first = parsed.errors?.[0];
    return (
      first?.message ||
      first?.code?.toLowerCase() ||
      parsed.details ||
      parsed.error_description ||
      (typeof parsed.error === "string" ? parsed.error : undefined) ||
      undefined
    );
  } catch {
    const text = body.trim();
    return text && text.length < 200 && !text.startsWith("<") ? text : undefined;
  }
}

/** Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== "basic" && scheme !== "bearer") return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme, params };
}
