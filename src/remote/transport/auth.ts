import type { Credentials } from "../../credentials/docker-config.js";
import { RemoteError } from "../errors.js";
import { answersBasic, basicAuthorization } from "./basic.js";
import { type KnownChallenge, pickChallenge } from "./challenge.js";
import { deniedError, REFUSAL_BODY_LIMIT, serverMessage, unauthorizedError } from "./refusals.js";
import { type Layer, type Scope, scopeStrings, withHeader } from "./request.js";
import { readText } from "./send.js";
import type { TokenService } from "./token.js";

/** Credentials for a registry: given, or looked up (once, when the registry first asks for them). */
export type CredentialSource = Credentials | ((registry: string) => Promise<Credentials | undefined>);

interface Authorization {
  header: string;
  /** Taken from the token cache rather than fetched for this request. */
  cached: boolean;
}

/**
 * Re-authorisations of one request after a 401: one to answer the first challenge, one to
 * replace a token the registry refused. A registry that answers 401 to everything costs three
 * requests and two token fetches, then an error.
 */
const MAX_REAUTHORIZATIONS = 2;

/**
 * What a client knows about a registry's authentication: its challenge (undefined until a
 * ping or a 401 tells, null when it asks for none), the credentials, and the tokens.
 */
export class Authenticator {
  challenge: KnownChallenge | null | undefined;
  private credentials?: Promise<Credentials | undefined>;

  constructor(
    readonly registry: string,
    private readonly source: CredentialSource | undefined,
    private readonly tokens: TokenService,
  ) {}

  storedCredentials(): Promise<Credentials | undefined> {
    if (!this.credentials) {
      const source = this.source;
      this.credentials =
        typeof source === "function" ? source(this.registry) : Promise.resolve(source ?? undefined);
    }
    return this.credentials;
  }

  /**
   * The Authorization header for a request with these scopes under the current challenge:
   * Basic credentials, or a Bearer token (cached unless `refresh`); none without a challenge.
   */
  async authorization(
    scope: Scope | Scope[] | undefined,
    refresh: boolean,
  ): Promise<Authorization | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const creds = await this.storedCredentials();
    if (challenge.scheme === "basic") {
      return answersBasic(creds) ? { header: basicAuthorization(creds), cached: false } : undefined;
    }
    const scopes = scopeStrings(scope);
    // A request without a repository (the catalog) takes the scope the registry asked for.
    if (scopes.length === 0 && challenge.params.scope) scopes.push(...challenge.params.scope.split(" "));
    try {
      const { token, cached } = await this.tokens.get({ challenge, scopes, credentials: creds }, refresh);
      return { header: `Bearer ${token.token}`, cached };
    } catch (err) {
      if (err instanceof RemoteError && err.status === 401) throw await this.unauthorized(err.reason);
      throw err;
    }
  }

  async unauthorized(message: string): Promise<RemoteError> {
    return unauthorizedError(this.registry, message, (await this.storedCredentials()) !== undefined);
  }
}

/**
 * The 401 loop: a request goes out with what the authenticator has; a 401 whose challenge
 * more credentials may cure is answered (the challenge learnt, a token fetched or replaced)
 * and the request sent again, at most MAX_REAUTHORIZATIONS times. A 401 that cannot be cured
 * and a 403 become RemoteErrors ("unauthorized: …", "denied: …"). A streamed body is never
 * sent twice: it is authorised before it goes (the client pings first).
 */
export function withAuth(auth: Authenticator): Layer {
  return (next) => async (req) => {
    let sent = await auth.authorization(req.scope, false);
    for (let attempt = 0; ; attempt++) {
      const res = await next(sent ? withHeader(req, "Authorization", sent.header) : req);
      if (res.statusCode === 403) throw deniedError((await readText(res.body, REFUSAL_BODY_LIMIT)).text);
      if (res.statusCode !== 401) return res;
      const challenge = pickChallenge(res.headers["www-authenticate"]);
      const { text } = await readText(res.body, REFUSAL_BODY_LIMIT);
      if (
        attempt < MAX_REAUTHORIZATIONS &&
        !req.streaming &&
        challenge &&
        worthRetrying(sent, challenge, req.scope)
      ) {
        auth.challenge = challenge;
        sent = await auth.authorization(req.scope, true);
        if (sent) continue;
      }
      throw await auth.unauthorized(serverMessage(text) ?? "authentication required");
    }
  };
}

/**
 * Whether a 401 may be cured by asking again: nothing was sent yet, the token came from the
 * cache (it may have expired or been revoked early), the registry says the token is invalid,
 * or it asks for a scope the request did not name. Refused Basic credentials are final.
 */
function worthRetrying(
  sent: Authorization | undefined,
  challenge: KnownChallenge,
  scope: Scope | Scope[] | undefined,
): boolean {
  if (!sent) return true;
  if (challenge.scheme === "basic" || sent.header.startsWith("Basic ")) return false;
  if (sent.cached || challenge.params.error === "invalid_token") return true;
  const asked = challenge.params.scope;
  return asked !== undefined && scopeStrings(scope).length === 0;
}
