import type { Descriptor } from "../oci/descriptor.js";
import { Digest, digestOf } from "../oci/digest.js";
import { ContentMismatchError } from "./errors.js";

/** Configs and manifests are read whole; nothing legitimate comes near this (layers never are). */
export const MAX_SMALL_BLOB = 32 * 1024 * 1024;

/** Checks bytes against the descriptor they were fetched by: size first, then digest. */
export function verifyBytes(desc: Descriptor, bytes: Uint8Array, what: string): void {
  if (bytes.length !== desc.size) {
    throw new ContentMismatchError(
      `${what} ${desc.digest} has ${bytes.length} bytes, but its descriptor says ${desc.size}`,
    );
  }
  const expected = Digest.parse(desc.digest);
  const actual = digestOf(bytes, expected.algorithm);
  if (!actual.equals(expected)) {
    throw new ContentMismatchError(`${what} ${desc.digest} arrived with digest ${actual}: refused`);
  }
}

/** Reads a small blob (a config) whole, refusing more bytes than its descriptor announces. */
export async function readSmall(
  stream: AsyncIterable<Buffer>,
  desc: Descriptor,
  what: string,
): Promise<Buffer> {
  if (desc.size > MAX_SMALL_BLOB) {
    throw new ContentMismatchError(`${what} ${desc.digest} is ${desc.size} bytes: too large to be one`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > desc.size) {
      throw new ContentMismatchError(
        `${what} ${desc.digest} is longer than the ${desc.size} bytes its descriptor says`,
      );
    }
    chunks.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(chunks);
  verifyBytes(desc, bytes, what);
  return bytes;
}
