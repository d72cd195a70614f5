import type { Stats } from "node:fs";

/**
 * The two spellings of a deletion in a layer. In a tar (OCI image-spec "whiteouts"): a file
 * `.wh.<name>` hides `<name>` of the layers below, and `.wh..wh..opq` in a directory hides all of
 * that directory's lower contents. On an overlayfs lower directory (what the overlay2 driver
 * unpacks to when running as root): a 0/0 character device named `<name>`, and the xattr
 * `trusted.overlay.opaque=y` on the directory. Rootless stores keep the tar spelling on disk.
 */
export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";
/** `.wh..wh.` names other than the opaque marker are aufs bookkeeping, not part of the image. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";
export const OPAQUE_XATTR = "trusted.overlay.opaque";

export function isWhiteoutDevice(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export function isOpaqueValue(value: Uint8Array | undefined): boolean {
  return value !== undefined && value.length === 1 && value[0] === 0x79; // "y"
}
