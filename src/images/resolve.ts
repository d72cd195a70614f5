import { BerthError } from "../errors.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type { ImageDb } from "./db.js";

export class NoSuchImageError extends BerthError {
  override readonly name = "NoSuchImageError";
  override readonly code = "NO_SUCH_IMAGE";
  constructor(
    readonly input: string,
    message = `No such image: ${input}`,
  ) {
    super(message);
  }
}

export class AmbiguousImageError extends BerthError {
  override readonly name = "AmbiguousImageError";
  override readonly code = "AMBIGUOUS_IMAGE";
  constructor(readonly input: string) {
    super(`multiple IDs found with provided prefix: ${input}`);
  }
}

export interface LocalImageRef {
  imageId: string;
  /** The reference when the input named the image by name, undefined when by ID. */
  reference?: Reference;
}

/**
 * Finds a local image as Docker does: a full or short image ID (with or without "sha256:"),
 * else a name with tag or digest (the tag defaulting to latest).
 */
export function resolveLocalImage(db: ImageDb, input: string): LocalImageRef {
  const idMatch = /^(?:sha256:)?([0-9a-f]{1,64})$/.exec(input);
  if (idMatch) {
    const hex = idMatch[1]!;
    if (hex.length === 64 && db.image(`sha256:${hex}`)) return { imageId: `sha256:${hex}` };
    if (input.startsWith("sha256:") || hex.length >= 1) {
      const found = db.imagesByIdPrefix(hex);
      if (found.length === 1) return { imageId: found[0]! };
      if (found.length > 1) throw new AmbiguousImageError(input);
    }
    if (input.startsWith("sha256:")) throw new NoSuchImageError(input);
  }
  const reference = parseReference(input);
  const repository = `${reference.registry}/${reference.repository}`;
  const imageId = reference.digest
    ? db.byRepoDigest(repository, reference.digest.toString())
    : db.tagged(repository, reference.tag!);
  if (!imageId) throw new NoSuchImageError(input);
  return { imageId, reference };
}

export function repositoryOf(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}
