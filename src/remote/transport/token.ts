import type { Dispatcher } from "undici";
import type { Credentials } from "../../credentials/docker-config.js";
import { NetworkError, RemoteError, TokenServiceError } from "../errors.js";
import { basicAuthorization } from "./basic.js";
import type { Challenge } from "./challenge.js";
import { deniedError, serverMessage } from "./refusals.js";
import type { Send } from "./request.js";
import { retrying } from "./retry.js";
import type { RetryPolicy } from "./retry-policy.js";
import { readText } from "./send.js";

export interface Token {
  token: string;
  expiresAt: number;
  /** An OAuth2 refresh token, which a login keeps as the identity token. */
  refreshToken?: string;
}

export interface TokenRequest {
  /** The registry's Bearer challenge: its realm, service and scope. */
  challenge: Challenge;
  /** "repository:NAME:pull,push" strings. */
  scopes: string[];
  credentials?: Credentials;
  /** docker login's request: an offline token, so the service may hand out a refresh token to keep. */
  offline?: boolean;
}

/** A token answer is a few kilobytes; a service that sends more than this is not read further. */
const TOKEN_ANSWER_LIMIT = 1024 * 1024;
/** A cached token is not used in its last seconds: it could expire on the way. */
const EXPIRY_MARGIN_MS = 5_000;
/** The token spec's lifetime when the answer has no expires_in. */
const DEFAULT_LIFETIME_S = 60;

/**
 * Docker's token protocol from the client side (distribution's docs/spec/auth/token.md and
 * oauth.md): a token from the challenge's realm, by an OAuth2 refresh-token POST for an
 * identity token, else a GET with the account and Basic credentials, or anonymous when there
 * are none. The request is repeated and timed out like every other (it goes through the same
 * pool with the same retry policy), and tokens are cached per realm, service and scope set
 * until they expire; concurrent requests for the same set share one fetch.
 */
export class TokenService {
  private readonly cache = new Map<string, Token>();
  private readonly inflight = new Map<string, Promise<Token>>();

  constructor(
    /** The bottom of the client: the pool, no retries, no authentication. */
    private readonly send: Send,
    private readonly policy: () => RetryPolicy,
  ) {}

  /**
   * A token for a request: a cached one (`cached: true`) unless `refresh` asks for a new one,
   * because the registry refused the last.
   */
  async get(req: TokenRequest, refresh: boolean): Promise<{ token: Token; cached: boolean }> {
    const key = [req.challenge.params.realm, req.challenge.params.service, ...[...req.scopes].sort()].join(
      " ",
    );
    const pending = this.inflight.get(key);
    if (pending) return { token: await pending, cached: false };
    const cached = this.cache.get(key);
    if (cached && !refresh && cached.expiresAt > Date.now() + EXPIRY_MARGIN_MS)
      return { token: cached, cached: true };
    const fetching = this.fetch(req).finally(() => this.inflight.delete(key));
    this.inflight.set(key, fetching);
    const token = await fetching;
    this.cache.set(key, token);
    return { token, cached: false };
  }

  /**
   * Asks the realm for a token. A refusal is a RemoteError: 401 with the service's words as
   * its reason, 403 denied; a challenge or an answer that cannot be used is a TokenServiceError.
   */
  async fetch(req: TokenRequest): Promise<Token> {
    const url = realmUrl(req.challenge);
    const { service } = req.challenge.params;
    const headers: Record<string, string> = {};
    let method: Dispatcher.HttpMethod = "GET";
    let body: string | undefined;
    if (req.credentials?.identityToken) {
      method = "POST";
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: req.credentials.identityToken,
        client_id: "berth",
      });
      if (service) form.set("service", service);
      if (req.scopes.length > 0) form.set("scope", req.scopes.join(" "));
      body = form.toString();
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else {
      if (service) url.searchParams.set("service", service);
      for (const s of req.scopes) url.searchParams.append("scope", s);
      if (req.credentials) {
        url.searchParams.set("account", req.credentials.username);
        headers.Authorization = basicAuthorization(req.credentials);
      }
      if (req.offline) {
        url.searchParams.set("client_id", "berth");
        url.searchParams.set("offline_token", "true");
      }
    }
    // Named without the query: it holds the account.
    const where = `${url.origin}${url.pathname}`;
    const policy = this.policy();
    const answer = await retrying(
      policy,
      Math.max(1, policy.attempts),
      async () => {
        let res: Dispatcher.ResponseData;
        try {
          res = await this.send({ method, path: url.toString(), headers, body });
        } catch (err) {
          throw err instanceof NetworkError ? new NetworkError(where, err.cause) : err;
        }
        try {
          return {
            statusCode: res.statusCode,
            headers: res.headers,
            ...(await readText(res.body, TOKEN_ANSWER_LIMIT)),
          };
        } catch (err) {
          throw new NetworkError(where, err);
        }
      },
      async () => {},
    );
    const { statusCode, text, truncated } = answer;
    if (statusCode === 401) {
      const message = serverMessage(text) ?? "authentication required";
      throw new RemoteError(401, "UNAUTHORIZED", `unauthorized: ${message}`, undefined, message);
    }
    if (statusCode === 403) throw deniedError(text);
    if (statusCode !== 200)
      throw await RemoteError.fromResponse(statusCode, text, `token request to ${where}`);
    if (truncated) throw invalid(`the token service at ${where} answered with more than 1 MiB`);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw invalid(`the token service at ${where} answered with something that is not JSON`);
    }
    const token = typeof parsed?.token === "string" && parsed.token ? parsed.token : parsed?.access_token;
    if (typeof token !== "string" || !token)
      throw invalid(`the token service at ${where} answered without a token`);
    // It goes into an Authorization header: visible ASCII only, or the request could be split.
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw invalid(`the token service at ${where} answered with a token that cannot be sent in a header`);
    }
    const lifetime =
      typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_LIFETIME_S;
    const refreshToken = typeof parsed.refresh_token === "string" ? parsed.refresh_token : undefined;
    return { token, expiresAt: Date.now() + lifetime * 1000, refreshToken };
  }
}

/** The realm of a Bearer challenge as a URL; a registry naming none, or something else, is refused in words. */
function realmUrl(challenge: Challenge): URL {
  const realm = challenge.params.realm;
  if (!realm) throw invalid("the registry's Bearer challenge names no realm");
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw invalid(
      `the registry's Bearer challenge names a realm that is not a URL: ${JSON.stringify(realm.slice(0, 200))}`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalid(
      `the registry's Bearer challenge names a realm that is not an http(s) URL: ${url.protocol}`,
    );
  }
  return url;
}

function invalid(message: string): TokenServiceError {
  return new TokenServiceError(message);
}
