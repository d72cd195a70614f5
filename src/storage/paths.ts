import { InvalidPathError } from "./driver.js";

export interface ValidatePathOptions {
  /** Accept "/" itself; only `list` has a use for the root. */
  allowRoot?: boolean;
}

/**
 * Checks a driver path against the grammar every driver shares (see StorageDriver) and returns it
 * unchanged. The checks are lexical, so an S3 key and a local file name are judged alike; a path
 * that passes can be joined under a root without ever climbing out of it.
 */
export function validatePath(p: string, options: ValidatePathOptions = {}): string {
  if (typeof p !== "string" || !p.startsWith("/")) throw new InvalidPathError(String(p));
  if (p === "/") {
    if (options.allowRoot) return p;
    throw new InvalidPathError(p);
  }
  // A backslash is a separator on Windows and an escape to some tools; NUL truncates C strings.
  if (p.includes("\0") || p.includes("\\")) throw new InvalidPathError(p);
  for (const component of p.slice(1).split("/")) {
    // An empty component also catches a trailing "/" and "//".
    if (component === "" || component === "." || component === "..") throw new InvalidPathError(p);
  }
  return p;
}
