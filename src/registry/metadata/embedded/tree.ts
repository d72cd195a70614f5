import { Digest } from "../../../oci/digest.js";
import { PathNotFoundError, type StorageDriver } from "../../../storage/driver.js";
import type { FilesystemDriver } from "../../../storage/filesystem.js";
import { layout } from "../../layout.js";
import { walkIfExists } from "../../layout-walk.js";

/** Hash algorithms a blob or link directory may be named by. */
export const ALGORITHMS: readonly string[] = ["sha256", "sha512"];

/**
 * Blob sizes by digest, shared by the embedded stores of one root: a digest names its bytes, so
 * a size never changes (garbage collection forgets the sizes of what it deletes).
 */
export class BlobSizes {
  private readonly sizes = new Map<string, number>();

  get(digest: Digest): number | undefined {
    return this.sizes.get(digest.toString());
  }

  set(digest: Digest, size: number): void {
    if (this.sizes.size >= 100_000) this.sizes.clear();
    this.sizes.set(digest.toString(), size);
  }

  delete(digest: Digest): void {
    this.sizes.delete(digest.toString());
  }
}

/** Link files `DIR/<algorithm>/<hex>/link` under a directory, with their digests and last use. */
export async function linksUnder(
  driver: StorageDriver,
  dir: string,
): Promise<{ digest: Digest; modTime: Date }[]> {
  const out: { digest: Digest; modTime: Date }[] = [];
  const depth = dir.split("/").length;
  await walkIfExists(driver, dir, (entry) => {
    const parts = entry.path.split("/").slice(depth);
    if (entry.isDir) return parts.length > 2 || !ALGORITHMS.includes(parts[0]!) ? "skip" : undefined;
    const value = `${parts[0]}:${parts[1]}`;
    if (parts.length === 3 && parts[2] === "link" && Digest.isValid(value)) {
      out.push({ digest: Digest.parse(value), modTime: entry.modTime });
    }
    return undefined;
  });
  return out;
}

/** A referrer entry's name, `<algorithm>-<hex>`, as a digest. */
export function entryDigest(entry: string): Digest | undefined {
  const [alg, hex] = entry.split("-");
  const value = `${alg}:${hex}`;
  return alg && hex && Digest.isValid(value) ? Digest.parse(value) : undefined;
}

/** The subject a manifest's bytes name, if any. */
export function subjectOf(bytes: Buffer): Digest | undefined {
  try {
    const digest = (JSON.parse(bytes.toString("utf8")) as { subject?: { digest?: unknown } }).subject?.digest;
    return typeof digest === "string" && Digest.isValid(digest) ? Digest.parse(digest) : undefined;
  } catch {
    return undefined;
  }
}

/** Marks a file used now; a missing file becomes the caller's error (touching is also a check). */
export async function touchOr(driver: FilesystemDriver, path: string, missing: () => Error): Promise<void> {
  try {
    await driver.touch(path);
  } catch (err) {
    if (err instanceof PathNotFoundError) throw missing();
    throw err;
  }
}

/** Removes a revision's referrer entry, found through the subject its bytes name. */
export async function removeReferrerEntry(
  driver: FilesystemDriver,
  repository: string,
  digest: Digest,
): Promise<void> {
  const bytes = await driver.getContent(layout.blobData(digest)).catch(() => undefined);
  const subject = bytes ? subjectOf(bytes) : undefined;
  if (!subject) return;
  try {
    await driver.delete(layout.referrerEntry(repository, subject, digest));
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err;
  }
}
