import { Digest } from "../../oci/digest.js";
import { urls } from "../../oci/distribution-routes.js";
import { parseManifest } from "../../oci/manifest.js";
import { isIndexMediaType } from "../../oci/media-types.js";
import { selectManifest } from "../../oci/platform.js";
import { validateTag } from "../../oci/reference.js";
import { ManifestUnknownError } from "../domain-errors.js";
import { RegistryError } from "../errors.js";
import { type Context, parseDigestParam, readBody, send } from "../http.js";
import { MAX_MANIFEST_BYTES, type ManifestReference, type StoredManifest } from "../services/manifests.js";

export async function getManifest(ctx: Context, name: string, reference: string): Promise<void> {
  // As distribution: a reference that is neither a tag nor a digest names no manifest.
  const ref = lookupReference(reference);
  if (!ref) throw new ManifestUnknownError(name, reference);
  let manifest = await ctx.services.manifests.get(name, ref);
  const accepted = acceptedTypes(ctx.req.headers.accept);
  if (accepted && !accepted.has(manifest.mediaType)) {
    manifest = await negotiate(ctx, name, reference, manifest, accepted);
  }
  send(
    ctx,
    200,
    {
      "Content-Type": manifest.mediaType,
      "Docker-Content-Digest": manifest.digest,
      ETag: `"${manifest.digest}"`,
    },
    manifest.bytes,
  );
}

/**
 * A client that does not accept the stored type: as distribution does, an index fetched by tag
 * is replaced by its linux/amd64 manifest when the client accepts that; otherwise 404.
 */
async function negotiate(
  ctx: Context,
  name: string,
  reference: string,
  manifest: StoredManifest,
  accepted: Set<string>,
): Promise<StoredManifest> {
  const parsed = isIndexMediaType(manifest.mediaType) ? parseManifest(manifest.bytes) : undefined;
  if (parsed?.kind === "index" && !reference.includes(":")) {
    const child = selectManifest(parsed.value, { os: "linux", architecture: "amd64" });
    if (child && accepted.has(child.mediaType)) {
      return ctx.services.manifests.get(name, { digest: Digest.parse(child.digest) });
    }
  }
  throw new RegistryError(
    "MANIFEST_UNKNOWN",
    `manifest of type ${manifest.mediaType} found, but the Accept header does not allow it`,
    { name, reference, mediaType: manifest.mediaType },
  );
}

/** The media types an Accept header allows, or undefined when it allows anything. */
function acceptedTypes(header: string | undefined): Set<string> | undefined {
  if (!header) return undefined;
  const types = new Set<string>();
  for (const part of header.split(",")) {
    const type = part.split(";")[0]!.trim().toLowerCase();
    if (type === "*/*" || type === "application/*") return undefined;
    if (type) types.add(type);
  }
  return types.size > 0 ? types : undefined;
}

export async function putManifest(ctx: Context, name: string, reference: string): Promise<void> {
  const ref = writeReference(reference);
  const bytes = await readBody(ctx.req, MAX_MANIFEST_BYTES);
  const contentType = ctx.req.headers["content-type"];
  const { digest, parsed } = await ctx.services.manifests.put(name, ref, bytes, contentType);
  const headers: Record<string, string | number> = {
    Location: urls.manifest(name, digest.toString()),
    "Docker-Content-Digest": digest.toString(),
    "Content-Length": 0,
  };
  if (parsed.subject) headers["OCI-Subject"] = parsed.subject.digest;
  send(ctx, 201, headers);
}

export async function deleteManifest(ctx: Context, name: string, reference: string): Promise<void> {
  if (!ctx.options.deleteEnabled)
    throw new RegistryError("UNSUPPORTED", "deletes are disabled on this registry");
  await ctx.services.manifests.delete(name, writeReference(reference));
  send(ctx, 202, { "Content-Length": 0 });
}

/** A reference to read: a tag, a digest, or (anything else) undefined. */
function lookupReference(reference: string): ManifestReference | undefined {
  if (reference.includes(":"))
    return Digest.isValid(reference) ? { digest: Digest.parse(reference) } : undefined;
  try {
    validateTag(reference);
    return { tag: reference };
  } catch {
    return undefined;
  }
}

/** A reference to write or delete: an invalid one is the client's mistake, 400. */
function writeReference(reference: string): ManifestReference {
  if (reference.includes(":")) return { digest: parseDigestParam(reference) };
  try {
    validateTag(reference);
  } catch (err) {
    throw new RegistryError("TAG_INVALID", (err as Error).message, { tag: reference });
  }
  return { tag: reference };
}
