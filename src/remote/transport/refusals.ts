import { DEFAULT_REGISTRY } from "../../oci/reference.js";
import { RemoteError } from "../errors.js";

/** The most of a 401 or 403 body that is read for its message. */
export const REFUSAL_BODY_LIMIT = 64 * 1024;

/** The human part of an error body: the spec's errors[0].message, or a token service's words. */
export function serverMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as {
      errors?: { message?: string; code?: string }[];
      details?: string;
      error_description?: string;
      error?: string;
    };
    const first = parsed.errors?.[0];
    return (
      first?.message ||
      first?.code?.toLowerCase() ||
      parsed.details ||
      parsed.error_description ||
      (typeof parsed.error === "string" ? parsed.error : undefined) ||
      undefined
    );
  } catch {
    const text = body.trim();
    return text && text.length < 200 && !text.startsWith("<") ? text : undefined;
  }
}

/**
 * "unauthorized: …", with what to do about it: the stored credentials were refused, or there
 * are none and `berth login` would store them. `reason` keeps the registry's own words.
 */
export function unauthorizedError(registry: string, message: string, haveCredentials: boolean): RemoteError {
  const hint = haveCredentials
    ? `the credentials stored for ${registry} were not accepted for this request`
    : `no credentials are stored for ${registry}; run "berth login${registry === DEFAULT_REGISTRY ? "" : ` ${registry}`}"`;
  return new RemoteError(401, "UNAUTHORIZED", `unauthorized: ${message} (${hint})`, undefined, message);
}

export function deniedError(body: string): RemoteError {
  const message = serverMessage(body) ?? "requested access to the resource is denied";
  return new RemoteError(403, "DENIED", `denied: ${message}`, undefined, message);
}
