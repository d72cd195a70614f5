import { BerthError } from "../errors.js";
/** A credentials file (docker's config.json, a containers auth.json) that cannot be read or written. */
export class CredentialsFileError extends BerthError {
  override readonly name = "CredentialsFileError";
  override readonly code = "CREDENTIALS_FILE";
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** A docker-credential-NAME helper that failed; worded as docker words it. */
export class CredentialHelperError extends BerthError {
  override readonly name = "CredentialHelperError";
  override readonly code = "CREDENTIAL_HELPER";
  constructor(
    readonly helper: string,
    readonly action: string,
    reason: string,
  ) {
    super(`error ${action} credentials - err: ${reason} (helper docker-credential-${helper})`);
  }
}
