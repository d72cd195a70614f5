import { MediaTypes } from "../../oci/media-types.js";
import { type Context, parseDigestParam, sendJson } from "../http.js";

export async function listReferrers(ctx: Context, name: string, rawDigest: string): Promise<void> {
  const subject = parseDigestParam(rawDigest);
  const artifactType = ctx.query.get("artifactType") ?? undefined;
  const manifests = await ctx.services.referrers.list(name, subject, artifactType);
  const index = { schemaVersion: 2, mediaType: MediaTypes.OCI_INDEX, manifests };
  sendJson(
    ctx,
    200,
    index,
    artifactType !== undefined
      ? { "Content-Type": MediaTypes.OCI_INDEX, "OCI-Filters-Applied": "artifactType" }
      : { "Content-Type": MediaTypes.OCI_INDEX },
  );
}
