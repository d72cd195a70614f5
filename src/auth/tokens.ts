import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { InvalidTokenError } from "./errors.js";
import type { SigningKey } from "./keys.js";

/** One entry of a token's `access` claim, as Docker's token spec defines it. */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface VerifiedToken {
  /** The account; "" for an anonymous token. */
  subject: string;
  access: AccessEntry[];
  expiresAt: number;
}

/** The token endpoint's response body (Docker token spec; `access_token` for OAuth2 clients). */
export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
}

export interface TokenSettings {
  issuer: string;
  /** Lifetime of issued tokens, in seconds. */
  expiresIn: number;
}

/** Tolerated clock difference between the token service and a verifier, in seconds. */
const CLOCK_SKEW = 30;

export async function issueToken(
  key: SigningKey,
  settings: TokenSettings,
  subject: string,
  audience: string,
  access: AccessEntry[],
  now = Date.now(),
): Promise<TokenResponse> {
  const iat = Math.floor(now / 1000);
  const header: { alg: string; kid: string; typ: string; x5c?: string[] } = {
    alg: key.alg,
    kid: key.kid,
    typ: "JWT",
  };
  if (key.x5c) header.x5c = key.x5c;
  const token = await new SignJWT({ access })
    .setProtectedHeader(header)
    .setIssuer(settings.issuer)
    .setSubject(subject)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + settings.expiresIn)
    .setJti(randomUUID())
    .sign(key.privateKey);
  return {
    token,
    access_token: token,
    expires_in: settings.expiresIn,
    issued_at: new Date(iat * 1000).toISOString(),
  };
}

/**
 * Verifies a token against this service's own key only: the algorithm is pinned to the key's
 * (so `alg: none` and algorithm substitution fail), whatever `kid`, `jwk` or `x5c` the header
 * carries. Signature, issuer, audience, exp and nbf are checked.
 */
export async function verifyToken(
  key: SigningKey,
  token: string,
  expected: { issuer: string; audience: string },
): Promise<VerifiedToken> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [key.alg],
      issuer: expected.issuer,
      audience: expected.audience,
      clockTolerance: CLOCK_SKEW,
      requiredClaims: ["exp", "sub"],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) throw new InvalidTokenError(describe(err));
    throw err;
  }
  return {
    subject: payload.sub as string,
    access: parseAccessClaim(payload.access),
    expiresAt: (payload.exp as number) * 1000,
  };
}

function describe(err: InstanceType<typeof joseErrors.JOSEError>): string {
  if (err instanceof joseErrors.JWTExpired) return "the token has expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return `the token's ${err.claim} claim is not valid`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "the token's signature is not valid";
  return "the token is malformed";
}

function parseAccessClaim(value: unknown): AccessEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidTokenError("the token's access claim is not a list");
  return value.map((entry) => {
    const e = entry as Partial<AccessEntry> | null;
    if (
      typeof e !== "object" ||
      e === null ||
      typeof e.type !== "string" ||
      typeof e.name !== "string" ||
      !Array.isArray(e.actions) ||
      !e.actions.every((a) => typeof a === "string")
    ) {
      throw new InvalidTokenError("the token's access claim is malformed");
    }
    return { type: e.type, name: e.name, actions: e.actions };
  });
}
