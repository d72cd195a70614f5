import { ACTIONS, type AccessPolicy, type Identity } from "../../auth/access.js";
import { ScopeError } from "../../auth/errors.js";
import { formatScope, parseScopes, type Scope } from "../../auth/scope.js";
import { type AccessEntry, issueToken } from "../../auth/tokens.js";
import { type AuthServices, checkPassword, parseBasic } from "../authorize.js";
import { RegistryError } from "../errors.js";
import { type Context, readBody, sendJson } from "../http.js";

const FORM_LIMIT = 64 * 1024;

/**
 * Docker's token endpoint. `GET /token?service=&scope=…` with optional Basic credentials (none:
 * an anonymous token), and the OAuth2 password grant as `POST /token` with form fields. The token
 * grants, for each requested scope, the requested actions the policy allows, possibly none.
 */
export async function serveToken(ctx: Context, auth: AuthServices): Promise<void> {
  const token = auth.token!;
  const method = ctx.req.method;
  let params: URLSearchParams;
  let creds: { user: string; password: string } | undefined;
  let oauth = false;
  if (method === "GET" || method === "HEAD") {
    params = ctx.query;
    const header = ctx.req.headers.authorization;
    // Malformed credentials are a failed login; empty ones (":") mean anonymous, as clients send them.
    if (header !== undefined) creds = parseBasic(header) ?? { user: "", password: "\0" };
    if (creds?.user === "" && creds.password === "") creds = undefined;
  } else if (method === "POST") {
    oauth = true;
    const type = ctx.req.headers["content-type"] ?? "";
    if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      throw badRequest("POST /token takes an application/x-www-form-urlencoded form");
    }
    params = new URLSearchParams((await readBody(ctx.req, FORM_LIMIT)).toString("utf8"));
    const grant = params.get("grant_type");
    if (grant !== "password") {
      throw badRequest(
        `grant_type ${grant === null ? "is missing" : `"${grant}" is not supported`}; use password`,
      );
    }
    creds = { user: params.get("username") ?? "", password: params.get("password") ?? "" };
  } else {
    throw new RegistryError("UNSUPPORTED", `method ${method} not allowed on /token`, undefined, 405);
  }

  const service = params.get("service") || token.service;
  if (service !== token.service && !token.audiences.includes(service)) {
    throw badRequest(`this token service does not issue tokens for service "${service}"`);
  }
  let scopes: Scope[];
  try {
    scopes = parseScopes(params.getAll("scope"));
  } catch (err) {
    if (err instanceof ScopeError) throw badRequest(err.message);
    throw err;
  }

  let identity: Identity;
  if (creds !== undefined) {
    identity = await checkPassword(auth, ctx.req, creds);
    if (identity === undefined) {
      throw new RegistryError("UNAUTHORIZED", "invalid username or password").withHeaders({
        "WWW-Authenticate": `Basic realm="${auth.realm}",charset="UTF-8"`,
      });
    }
  }

  const access = scopes.map((scope) => grantScope(auth.policy, identity, scope));
  const issued = await issueToken(
    token.key,
    { issuer: token.issuer, expiresIn: token.expiresIn },
    identity ?? "",
    service,
    access,
  );
  ctx.log.debug({ account: identity ?? "(anonymous)", service, access }, "token issued");
  const body = oauth ? { ...issued, scope: access.map((a) => formatScope(a)).join(" ") } : issued;
  sendJson(ctx, 200, body, { "Cache-Control": "no-store", Pragma: "no-cache" });
}

function grantScope(policy: AccessPolicy, identity: Identity, scope: Scope): AccessEntry {
  let allowed: Set<string>;
  if (scope.type === "repository") {
    allowed = policy.allowedActions(identity, scope.name);
    if (ACTIONS.every((a) => allowed.has(a))) allowed.add("*");
  } else if (scope.type === "registry" && scope.name === "catalog") {
    allowed = new Set(policy.admits(identity) ? ["*"] : []);
  } else {
    allowed = new Set();
  }
  return { type: scope.type, name: scope.name, actions: scope.actions.filter((a) => allowed.has(a)) };
}

function badRequest(message: string): RegistryError {
  return new RegistryError("UNSUPPORTED", message, undefined, 400);
}
