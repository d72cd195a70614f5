import { pipeline } from "node:stream/promises";
import { RegistryError } from "../errors.js";
import { API_VERSION_HEADER, type Context, parseDigestParam, parseRange, send } from "../http.js";
import { layout } from "../layout.js";

export async function getBlob(ctx: Context, name: string, rawDigest: string): Promise<void> {
  const digest = parseDigestParam(rawDigest);
  const { blobs } = ctx.services;
  const size = await blobs.sizeIn(name, digest);
  if (size === undefined) throw new RegistryError("BLOB_UNKNOWN", undefined, { digest: rawDigest });
  const headers: Record<string, string | number> = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest.toString(),
    ETag: `"${digest}"`,
    "Accept-Ranges": "bytes",
    "Cache-Control": "max-age=31536000",
  };
  const range = parseRange(ctx.req.headers.range, size);
  if (range === "invalid") {
    throw new RegistryError("RANGE_INVALID", "requested range not satisfiable", { size }).withHeaders({
      "Content-Range": `bytes */${size}`,
    });
  }
  const status = range ? 206 : 200;
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  headers["Content-Length"] = end - start + 1;
  if (ctx.req.method === "HEAD" || size === 0) {
    send(ctx, status, headers);
    return;
  }
  if (ctx.options.blobRedirect && !range) {
    // As distribution's `redirect` option: the client fetches the bytes from the object store.
    const location = await ctx.options.blobRedirect(layout.blobData(digest));
    send(ctx, 307, { Location: location, "Docker-Content-Digest": digest.toString(), "Content-Length": 0 });
    return;
  }
  const stream = await blobs.open(digest, start, end);
  ctx.res.writeHead(status, { ...API_VERSION_HEADER, ...headers });
  await pipeline(stream, ctx.res);
}

export async function deleteBlob(ctx: Context, name: string, rawDigest: string): Promise<void> {
  if (!ctx.options.deleteEnabled)
    throw new RegistryError("UNSUPPORTED", "deletes are disabled on this registry");
  const digest = parseDigestParam(rawDigest);
  await ctx.services.blobs.unlink(name, digest);
  send(ctx, 202, { "Docker-Content-Digest": digest.toString(), "Content-Length": 0 });
}
