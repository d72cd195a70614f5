import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { AccessPolicy, Identity } from "../auth/access.js";
import { InvalidTokenError } from "../auth/errors.js";
import type { Htpasswd } from "../auth/htpasswd.js";
import type { SigningKey } from "../auth/keys.js";
import { clientKey, type FailedLoginLimiter } from "../auth/rate-limit.js";
import { formatScope, type Scope } from "../auth/scope.js";
import { type AccessEntry, verifyToken } from "../auth/tokens.js";
import type { RouteMatch } from "../oci/distribution-routes.js";
import { RegistryError } from "./errors.js";

/** The registry's authentication and access control, built once from the `auth` config. */
export interface AuthServices {
  type: "htpasswd" | "token";
  /** Accounts; in token mode without it only anonymous tokens are issued. */
  htpasswd?: Htpasswd;
  policy: AccessPolicy;
  /** The Basic realm. */
  realm: string;
  limiter: FailedLoginLimiter;
  token?: TokenService;
}

export interface TokenService {
  key: SigningKey;
  /** Configured token endpoint; undefined: this server's /token as the client reached it. */
  realm?: string;
  service: string;
  issuer: string;
  audiences: string[];
  /** Seconds. */
  expiresIn: number;
}

/** Who the caller is, and which repositories it may pull (for catalog filtering and mounts). */
export interface Grant {
  identity: Identity;
  mayPull(name: string): boolean;
}

export const OPEN_GRANT: Grant = { identity: undefined, mayPull: () => true };

/**
 * The access a route needs, as distribution asks for it: reads need pull; uploads and manifest
 * writes need pull and push; deletes need delete; the catalog needs `registry:catalog:*`; the
 * base endpoint needs only an identity.
 */
export function requiredScope(match: RouteMatch, method: string): Scope | undefined {
  switch (match.route) {
    case "base":
      return undefined;
    case "catalog":
    case "search":
      return { type: "registry", name: "catalog", actions: ["*"] };
    default: {
      const name = match.name!;
      if (method === "DELETE" && (match.route === "manifest" || match.route === "blob")) {
        return { type: "repository", name, actions: ["delete"] };
      }
      const writes =
        match.route === "uploadStart" ||
        match.route === "upload" ||
        (match.route === "manifest" && method === "PUT");
      return { type: "repository", name, actions: writes ? ["pull", "push"] : ["pull"] };
    }
  }
}

/**
 * Decides a request before its handler runs (and so before any body is read or anything is
 * stored). Throws 401 with a challenge, 403 DENIED or 429 TOOMANYREQUESTS.
 */
export async function authorize(
  auth: AuthServices,
  req: IncomingMessage,
  match: RouteMatch,
  method: string,
): Promise<Grant> {
  const needed = requiredScope(match, method);
  return auth.type === "token" ? authorizeBearer(auth, req, needed) : authorizeBasic(auth, req, needed);
}

async function authorizeBasic(
  auth: AuthServices,
  req: IncomingMessage,
  needed: Scope | undefined,
): Promise<Grant> {
  const challenge = () => unauthorized(`Basic realm="${auth.realm}",charset="UTF-8"`);
  const header = req.headers.authorization;
  // The base endpoint is how clients learn the scheme: without a challenge there they would never
  // send credentials. Clients without credentials then send empty Basic ones, meaning anonymous.
  if (header === undefined && needed === undefined) throw challenge();
  let identity: Identity;
  const creds = header === undefined ? undefined : parseBasic(header);
  if (header !== undefined && (creds?.user !== "" || creds.password !== "")) {
    identity = await checkPassword(auth, req, creds);
    if (identity === undefined) throw challenge();
  }
  const { policy } = auth;
  const grant: Grant = { identity, mayPull: (name) => policy.allows(identity, name, "pull") };
  if (!policy.admits(identity)) throw challenge();
  if (needed?.type === "repository") {
    const allowed = policy.allowedActions(identity, needed.name);
    if (!needed.actions.every((a) => allowed.has(a as "pull"))) {
      if (identity === undefined) throw challenge();
      throw new RegistryError("DENIED");
    }
  }
  return grant;
}

/**
 * Checks Basic credentials, counting failures against the client's address. Over the limit the
 * answer is 429, even for the right password, so guessing gains nothing from the answers.
 * Returns undefined for a failed login; unknown users and wrong passwords are not told apart.
 */
export async function checkPassword(
  auth: AuthServices,
  req: IncomingMessage,
  creds: { user: string; password: string } | undefined,
): Promise<string | undefined> {
  const client = clientKey(req.socket.remoteAddress);
  const wait = auth.limiter.retryAfterMs(client);
  if (wait > 0) {
    throw new RegistryError(
      "TOOMANYREQUESTS",
      "too many failed logins from this address; try again later",
    ).withHeaders({ "Retry-After": String(Math.ceil(wait / 1000)) });
  }
  // Counted before the comparison (which takes a while by design): otherwise concurrent guesses
  // would all pass the check above before the first of them failed.
  const attempt = auth.limiter.recordFailure(client);
  if (
    creds !== undefined &&
    auth.htpasswd !== undefined &&
    (await auth.htpasswd.verify(creds.user, creds.password))
  ) {
    auth.limiter.forgive(client, attempt);
    return creds.user;
  }
  return undefined;
}

/** `Basic base64(user:password)`; undefined when the header is not that. */
export function parseBasic(header: string): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function authorizeBearer(
  auth: AuthServices,
  req: IncomingMessage,
  needed: Scope | undefined,
): Promise<Grant> {
  const token = auth.token!;
  const challenge = (error?: string) => {
    let value = `Bearer realm="${tokenRealm(token, req)}",service="${token.service}"`;
    if (needed) value += `,scope="${formatScope(needed)}"`;
    if (error) value += `,error="${error}"`;
    return unauthorized(value);
  };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (!m) throw challenge();
  let verified: Awaited<ReturnType<typeof verifyToken>>;
  try {
    verified = await verifyToken(token.key, m[1]!, { issuer: token.issuer, audience: token.service });
  } catch (err) {
    if (err instanceof InvalidTokenError) throw challenge("invalid_token");
    throw err;
  }
  const identity: Identity = verified.subject === "" ? undefined : verified.subject;
  const { policy } = auth;
  // The catalog lists what the policy lets the caller pull; a mount's source must be in the token.
  const grant: Grant =
    needed?.type === "registry"
      ? { identity, mayPull: (name) => policy.allows(identity, name, "pull") }
      : { identity, mayPull: (name) => tokenAllows(verified.access, "repository", name, "pull") };
  if (needed === undefined) {
    if (!policy.admits(identity)) throw challenge("insufficient_scope");
    return grant;
  }
  if (needed.actions.every((a) => tokenAllows(verified.access, needed.type, needed.name, a))) return grant;
  // The token service saw this resource and decided: a named user is denied. A token without an
  // entry for it (made for another repository) or an anonymous one may be replaced: challenge.
  const decided = verified.access.some((e) => e.type === needed.type && e.name === needed.name);
  if (decided && identity !== undefined) throw new RegistryError("DENIED");
  throw challenge("insufficient_scope");
}

function tokenAllows(access: AccessEntry[], type: string, name: string, action: string): boolean {
  return access.some(
    (e) => e.type === type && e.name === name && (e.actions.includes(action) || e.actions.includes("*")),
  );
}

/** The token endpoint clients are sent to: configured, or this server's /token as the client reached it. */
export function tokenRealm(token: TokenService, req: IncomingMessage): string {
  if (token.realm) return token.realm;
  const scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
  const host = req.headers.host;
  if (host !== undefined && /^[A-Za-z0-9.-]+(?::\d+)?$|^\[[0-9A-Fa-f:.]+\](?::\d+)?$/.test(host)) {
    return `${scheme}://${host}/token`;
  }
  const local = req.socket.localAddress ?? "127.0.0.1";
  const shown = local.includes(":") ? `[${local}]` : local;
  return `${scheme}://${shown}:${req.socket.localPort}/token`;
}

function unauthorized(challenge: string): RegistryError {
  return new RegistryError("UNAUTHORIZED").withHeaders({ "WWW-Authenticate": challenge });
}
