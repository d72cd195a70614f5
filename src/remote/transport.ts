import { Agent, type Dispatcher, interceptors } from "undici";
import { DEFAULT_REGISTRY } from "../oci/reference.js";
import { NetworkError, RemoteError } from "./errors.js";

export interface Credentials {
  username: string;
  password: string;
}

export interface TransportOptions {
  /** Registries reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: string[];
  /** Credentials for a registry host, if any (login comes with the auth work). */
  credentials?: (registry: string) => Credentials | undefined;
  userAgent?: string;
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

interface CachedToken {
  token: string;
  expiresAt: number;
}

export type RequestOptions = {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: Dispatcher.DispatchOptions["body"];
  scope?: Scope;
  /** A body that cannot be sent twice: the request is authorised before it is sent. */
  streaming?: boolean;
};

const sharedAgent = new Agent({ connections: 16, keepAliveTimeout: 30_000, pipelining: 1 }).compose(
  interceptors.redirect({ maxRedirections: 5 }),
);

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

/**
 * HTTP to one registry: a keep-alive connection pool, redirects followed (blobs are often served
 * from elsewhere), and WWW-Authenticate challenges answered with Basic credentials or Bearer
 * tokens from the registry's token service, cached per scope until they expire.
 */
export class RegistryTransport {
  readonly baseUrl: string;
  private challenge?: Challenge | null;
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    readonly registry: string,
    private readonly options: TransportOptions = {},
  ) {
    this.baseUrl = registryBaseUrl(registry, options.insecureRegistries);
  }

  async request(opts: RequestOptions): Promise<Dispatcher.ResponseData> {
    if (opts.streaming && this.challenge === undefined) await this.ping();
    let auth = await this.authorization(opts.scope, false);
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(opts, auth);
      if (res.statusCode !== 401 || attempt > 0 || opts.streaming) return res;
      const header = res.headers["www-authenticate"];
      await res.body.dump();
      const challenge = parseChallenge(Array.isArray(header) ? header[0] : header);
      if (!challenge) return this.send(opts, auth);
      this.challenge = challenge;
      auth = await this.authorization(opts.scope, true);
      if (!auth) throw new RemoteError(401, "UNAUTHORIZED", `authentication required by ${this.registry}`);
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

  private async send(opts: RequestOptions, auth: string | undefined): Promise<Dispatcher.ResponseData> {
    const url = this.resolve(opts.path);
    const headers: Record<string, string> = {
      "User-Agent": this.options.userAgent ?? "berth/0.1",
      ...opts.headers,
    };
    if (auth) headers.Authorization = auth;
    try {
      return await sharedAgent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: opts.method,
        headers,
        body: opts.body,
        headersTimeout: 60_000,
        bodyTimeout: 120_000,
      });
    } catch (err) {
      if (err instanceof RemoteError) throw err;
      throw new NetworkError(url.toString(), err);
    }
  }

  private async authorization(scope: Scope | undefined, refresh: boolean): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const creds = this.options.credentials?.(this.registry);
    if (challenge.scheme === "basic") {
      return creds
        ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`
        : undefined;
    }
    const scopeString = scope
      ? `repository:${scope.repository}:${scope.actions.join(",")}`
      : (challenge.params.scope ?? "");
    const key = scopeString;
    const cached = this.tokens.get(key);
    if (cached && !refresh && cached.expiresAt > Date.now() + 5_000) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(challenge, scopeString, creds);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private async fetchToken(
    challenge: Challenge,
    scope: string,
    creds: Credentials | undefined,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new RemoteError(401, "UNAUTHORIZED", "the registry's Bearer challenge names no realm");
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    if (scope) url.searchParams.set("scope", scope);
    if (creds) url.searchParams.set("account", creds.username);
    const headers: Record<string, string> = {};
    if (creds)
      headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await sharedAgent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: "GET",
        headers,
      });
    } catch (err) {
      throw new NetworkError(url.toString(), err);
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) throw await RemoteError.fromResponse(res.statusCode, text, "token request");
    const body = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new RemoteError(401, "UNAUTHORIZED", "the token service answered without a token");
    // The token spec's default lifetime is 60 seconds when expires_in is absent.
    return { token, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
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
