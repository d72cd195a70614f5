import { type ImageIndex, parseManifest } from "../../oci/manifest.js";
import { MediaTypes } from "../../oci/media-types.js";
import { selectManifest } from "../../oci/platform.js";
import { validateTag } from "../../oci/reference.js";
import { RegistryError } from "../errors.js";
import { type Context, readBody, send } from "../http.js";
import { urls } from "../routes.js";
import { MAX_MANIFEST_BYTES, type StoredManifest } from "../store.js";

export async function getManifest(ctx: Context, name: string, reference: string): Promise<void> {
  checkReference(reference);
  let manifest = await ctx.store.getManifest(name, reference);
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
  const isIndex =
    manifest.mediaType === MediaTypes.OCI_INDEX || manifest.mediaType === MediaTypes.DOCKER_MANIFEST_LIST;
  if (isIndex && !reference.includes(":")) {
    const index = parseManifest(manifest.bytes).value as ImageIndex;
    const child = selectManifest(index, { os: "linux", architecture: "amd64" });
    if (child && accepted.has(child.mediaType)) return ctx.store.getManifest(name, child.digest);
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
  checkReference(reference);
  const bytes = await readBody(ctx.req, MAX_MANIFEST_BYTES);
  const contentType = ctx.req.headers["content-type"];
  const { digest, parsed } = await ctx.store.putManifest(name, reference, bytes, contentType);
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
  checkReference(reference);
  await ctx.store.deleteManifest(name, reference);
  send(ctx, 202, { "Content-Length": 0 });
}

function checkReference(reference: string): void {
  if (reference.includes(":")) return; // digests are parsed by the store, which maps errors to DIGEST_INVALID
  try {
    validateTag(reference);
  } catch (err) {
    throw new RegistryError("TAG_INVALID", (err as Error).message, { tag: reference });
  }
}
