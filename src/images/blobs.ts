import { Digest } from "../oci/digest.js";
import { parseManifest } from "../oci/manifest.js";
import type { LayerBlob } from "./db.js";
import type { LocalStore } from "./local-store.js";

/**
 * The compressed blob of each layer of an image, bottom first: those its own manifest lists
 * when the content store holds them all (so an image built or committed on top pushes the same
 * base blobs, which registries then mount or skip), else any stored form of each diff_id.
 * Undefined when a layer has no blob at all (it exists only unpacked).
 */
export async function imageLayerBlobs(
  store: LocalStore,
  imageId: string,
  diffIds: string[],
): Promise<LayerBlob[] | undefined> {
  const has = (digest: string) => store.content.has(Digest.parse(digest));
  for (const m of store.db.manifestsOf(imageId)) {
    if (!(await has(m.digest))) continue;
    const parsed = parseManifest(await store.content.readAll(Digest.parse(m.digest)), m.mediaType);
    if (parsed.kind !== "manifest" || parsed.value.layers.length !== diffIds.length) continue;
    const layers = parsed.value.layers;
    if ((await Promise.all(layers.map((l) => has(l.digest)))).every(Boolean)) {
      return layers.map((l, i) => ({
        diffId: diffIds[i]!,
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
      }));
    }
  }
  const out: LayerBlob[] = [];
  for (const diffId of diffIds) {
    let found: LayerBlob | undefined;
    for (const b of store.db.layerBlobs(diffId)) if (!found && (await has(b.digest))) found = b;
    if (!found) return undefined;
    out.push(found);
  }
  return out;
}
