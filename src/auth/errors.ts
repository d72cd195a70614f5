import { BerthError } from "../errors.js";
/** A file the auth layer loads (htpasswd, key, certificate) is unusable; the message names it. */
export class AuthFileError extends BerthError {
  override readonly name = "AuthFileError";
}

/** An access rule's repository glob is not a valid pattern. */
export class GlobError extends BerthError {
  override readonly name = "GlobError";
}

/** A token scope string ("repository:NAME:pull,push") does not parse. */
export class ScopeError extends BerthError {
  override readonly name = "ScopeError";
}

/** A bearer token was refused: bad signature, algorithm, issuer, audience, time window or shape. */
export class InvalidTokenError extends BerthError {
  override readonly name = "InvalidTokenError";
}
