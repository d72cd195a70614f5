import { digestOf } from "../oci/digest.js";

/** Chain IDs of a stack of diff_ids (OCI image spec): each names a layer together with all below it. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : digestOf(`${prev} ${diffId}`).toString());
  }
  return out;
}
