import { STATUS_CODES } from "node:http";
import type { Credentials } from "../../credentials/docker-config.js";
import { LoginError, RemoteError, TokenServiceError } from "../errors.js";
import { basicAuthorization } from "./basic.js";
import type { PingResult } from "./ping.js";
import { REFUSAL_BODY_LIMIT, serverMessage } from "./refusals.js";
import type { Send } from "./request.js";
import { readText } from "./send.js";
import type { Token, TokenService } from "./token.js";

/** The pieces of a client a login uses. */
export interface LoginParts {
  baseUrl: () => string;
  /** GET /v2/ without credentials (choosing the scheme, if it is still to be chosen). */
  ping: () => Promise<PingResult>;
  /** Sends with retries and nothing else: the login sets its own Authorization. */
  send: Send;
  tokens: TokenService;
}

/**
 * Checks credentials as `docker login` does, storing nothing: GET /v2/; on a Basic challenge
 * the same with the credentials; on a Bearer challenge a token for the account from the realm
 * (an offline one, so the service may hand out a refresh token), then GET /v2/ with it.
 * Returns the refresh token to keep as the identity token, when there is one.
 */
export async function login(parts: LoginParts, creds: Credentials): Promise<{ identityToken?: string }> {
  const first = await parts.ping();
  const endpoint = `${parts.baseUrl()}/v2/`;
  if (first.status === 200) return {};
  const challenge = first.challenge;
  if (first.status !== 401 || !challenge) throw loginFailed(endpoint, first.status);
  let auth: string;
  let identityToken: string | undefined;
  if (challenge.scheme === "basic") {
    auth = basicAuthorization(creds);
  } else {
    let token: Token;
    try {
      token = await parts.tokens.fetch({ challenge, scopes: [], credentials: creds, offline: true });
    } catch (err) {
      if (err instanceof RemoteError && err.status === 401) {
        throw new LoginError(`Get "${endpoint}": unauthorized: ${err.reason}`);
      }
      if (err instanceof TokenServiceError) throw new LoginError(`Get "${endpoint}": ${err.message}`);
      throw err;
    }
    auth = `Bearer ${token.token}`;
    identityToken = token.refreshToken;
  }
  const second = await parts.send({ method: "GET", path: "/v2/", headers: { Authorization: auth } });
  const { text } = await readText(second.body, REFUSAL_BODY_LIMIT);
  if (second.statusCode === 200) return { identityToken };
  if (second.statusCode === 401) {
    throw new LoginError(
      `Get "${endpoint}": unauthorized: ${serverMessage(text) ?? "authentication required"}`,
    );
  }
  throw loginFailed(endpoint, second.statusCode);
}

function loginFailed(endpoint: string, status: number): LoginError {
  return new LoginError(
    `login attempt to ${endpoint} failed with status: ${status} ${STATUS_CODES[status] ?? ""}`,
  );
}
