import type { Credentials } from "../../credentials/docker-config.js";

/** HTTP Basic credentials (RFC 7617), for a Basic challenge and for a token service's GET. */
export function basicAuthorization(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}

/** Whether stored credentials can answer a Basic challenge: an identity token is for a token service only. */
export function answersBasic(creds: Credentials | undefined): creds is Credentials {
  return creds !== undefined && !creds.identityToken;
}
