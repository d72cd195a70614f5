import { request } from "undici";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

export interface ReadTargets {
  manifest: string;
  tags: string;
  blob: string;
}

/**
 * The URLs the read benchmarks hit on a registry holding `repo:1`: the manifest by tag, the tag
 * list (after `extraTags` more tags of the same manifest are written, so it has some length) and
 * the largest layer.
 */
export async function readTargets(base: string, repo: string, extraTags = 50): Promise<ReadTargets> {
  const manifest = await request(`${base}/v2/${repo}/manifests/1`, { headers: { Accept: OCI_MANIFEST } });
  const body = Buffer.from(await manifest.body.arrayBuffer());
  for (let t = 0; t < extraTags; t++) {
    const res = await request(`${base}/v2/${repo}/manifests/t${t}`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body,
    });
    await res.body.dump();
  }
  const layers = (JSON.parse(body.toString()) as { layers: { digest: string; size: number }[] }).layers;
  const biggest = layers.reduce((a, b) => (b.size > a.size ? b : a));
  return {
    manifest: `${base}/v2/${repo}/manifests/1`,
    tags: `${base}/v2/${repo}/tags/list`,
    blob: `${base}/v2/${repo}/blobs/${biggest.digest}`,
  };
}
