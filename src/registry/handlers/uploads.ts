import { urls } from "../../oci/distribution-routes.js";
import { isValidRepositoryName } from "../../oci/reference.js";
import { BlobUnknownError } from "../domain-errors.js";
import { RegistryError } from "../errors.js";
import { type Context, contentLength, hasBody, parseContentRange, parseDigestParam, send } from "../http.js";
import { uploadHeaders } from "../upload-headers.js";

/** POST /v2/<name>/blobs/uploads/: a cross-repository mount, a monolithic upload, or a new session. */
export async function startUpload(ctx: Context, name: string): Promise<void> {
  const mount = ctx.query.get("mount");
  const from = ctx.query.get("from");
  if (mount !== null && from !== null) {
    const digest = parseDigestParam(mount);
    // A source that is not readable is not an error: the spec says to fall back to a new upload.
    // Nor is one the caller may not pull (mounting would hand it the blob), or a `from` that is
    // not a repository name, as distribution ignores it.
    if (
      isValidRepositoryName(from) &&
      ctx.mayPull(from) &&
      (await ctx.services.blobs.sizeIn(from, digest)) !== undefined
    ) {
      try {
        await ctx.services.blobs.link(name, digest);
        blobCreated(ctx, name, digest.toString());
        return;
      } catch (err) {
        // Collected between the check and the link: upload it like any other blob.
        if (!(err instanceof BlobUnknownError)) throw err;
      }
    }
  }
  const rawDigest = ctx.query.get("digest");
  if (rawDigest !== null) {
    const digest = parseDigestParam(rawDigest);
    const { uuid } = await ctx.services.uploads.start(name);
    await ctx.services.uploads.finish(name, uuid, digest, ctx.req, undefined, contentLength(ctx.req));
    blobCreated(ctx, name, digest.toString());
    return;
  }
  const { uuid, size } = await ctx.services.uploads.start(name);
  send(ctx, 202, { ...uploadHeaders(name, uuid, size), "Content-Length": 0 });
}

export async function patchUpload(ctx: Context, name: string, uuid: string): Promise<void> {
  const range = parseContentRange(ctx.req);
  const status = await ctx.services.uploads.append(name, uuid, ctx.req, range, contentLength(ctx.req));
  send(ctx, 202, { ...uploadHeaders(name, uuid, status.size), "Content-Length": 0 });
}

export async function finishUpload(ctx: Context, name: string, uuid: string): Promise<void> {
  const rawDigest = ctx.query.get("digest");
  if (rawDigest === null) {
    throw new RegistryError("DIGEST_INVALID", "the digest query parameter is required to finish an upload");
  }
  const digest = parseDigestParam(rawDigest);
  const body = hasBody(ctx.req) ? ctx.req : undefined;
  await ctx.services.uploads.finish(
    name,
    uuid,
    digest,
    body,
    parseContentRange(ctx.req),
    contentLength(ctx.req),
  );
  blobCreated(ctx, name, digest.toString());
}

export async function uploadStatus(ctx: Context, name: string, uuid: string): Promise<void> {
  const status = await ctx.services.uploads.status(name, uuid);
  send(ctx, 204, uploadHeaders(name, uuid, status.size));
}

export async function cancelUpload(ctx: Context, name: string, uuid: string): Promise<void> {
  await ctx.services.uploads.cancel(name, uuid);
  send(ctx, 204, {});
}

function blobCreated(ctx: Context, name: string, digest: string): void {
  send(ctx, 201, { Location: urls.blob(name, digest), "Docker-Content-Digest": digest, "Content-Length": 0 });
}
