/** A local image that could be the base of another: its ID, layers (diff_ids) and names. */
export interface Candidate {
  imageId: string;
  diffIds: string[];
  names: string[];
}

/**
 * The base image of an image, as `docker scout quickview` shows it: the other image whose layers
 * are the longest proper prefix of this image's layers. Undefined when no image is.
 */
export function findBaseImage(
  diffIds: string[],
  candidates: Candidate[],
  self?: string,
): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) {
    if (c.imageId === self || c.diffIds.length === 0 || c.diffIds.length >= diffIds.length) continue;
    if (!c.diffIds.every((d, i) => diffIds[i] === d)) continue;
    if (
      !best ||
      c.diffIds.length > best.diffIds.length ||
      (c.diffIds.length === best.diffIds.length && c.names.length > best.names.length)
    )
      best = c;
  }
  return best;
}
