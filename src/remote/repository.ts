import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { ImageSink, ImageSource, OpenBlob, SourceBlob, SourceManifest } from "../content/source.js";
import { Digest, digestOf } from "../oci/digest.js";
import { MANIFEST_MEDIA_TYPES } from "../oci/media-types.js";
import { urls } from "../registry/routes.js";
import { RemoteError } from "./errors.js";
import type { RegistryTransport, Scope } from "./transport.js";

/** One repository on a remote registry, spoken to through the distribution protocol; pull's image source. */
export class RemoteRepository implements ImageSource, ImageSink {
  readonly description: string;

  constructor(
    readonly transport: RegistryTransport,
    readonly name: string,
  ) {
    this.description = `${transport.registry}/${name}`;
  }

  private scope(...actions: Scope["actions"]): Scope {
    return { repository: this.name, actions };
  }

  /**
   * Fetches a manifest by tag or digest, accepting all four manifest types. The digest is
   * computed from the bytes; when fetched by digest, bytes that hash otherwise are refused.
   */
  async getManifest(reference: string): Promise<SourceManifest> {
    const res = await this.transport.request({
      method: "GET",
      path: urls.manifest(this.name, reference),
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(", ") },
      scope: this.scope("pull"),
    });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) {
      throw await RemoteError.fromResponse(
        res.statusCode,
        bytes.toString("utf8"),
        `manifest ${this.name}:${reference}`,
      );
    }
    const mediaType = String(res.headers["content-type"] ?? "")
      .split(";")[0]!
      .trim();
    let digest: Digest;
    if (reference.includes(":")) {
      const expected = Digest.parse(reference);
      digest = digestOf(bytes, expected.algorithm);
      if (!digest.equals(expected)) {
        throw new RemoteError(
          200,
          "DIGEST_INVALID",
          `manifest verification failed for ${this.name}@${reference}: the registry served content with digest ${digest}`,
        );
      }
    } else {
      digest = digestOf(bytes);
    }
    return { bytes, mediaType, digest };
  }

  /** Digest and media type of a manifest without its body, or undefined when unknown. */
  async headManifest(
    reference: string,
  ): Promise<{ digest?: string; mediaType: string; size: number } | undefined> {
    const res = await this.transport.request({
      method: "HEAD",
      path: urls.manifest(this.name, reference),
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(", ") },
      scope: this.scope("pull"),
    });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200)
      throw await RemoteError.fromResponse(res.statusCode, "", `manifest ${reference}`);
    const digest = res.headers["docker-content-digest"];
    return {
      digest: typeof digest === "string" ? digest : undefined,
      mediaType: String(res.headers["content-type"] ?? ""),
      size: Number(res.headers["content-length"] ?? 0),
    };
  }

  async putManifest(tag: string | undefined, bytes: Buffer, mediaType: string): Promise<string> {
    const reference = tag ?? digestOf(bytes).toString();
    const res = await this.transport.request({
      method: "PUT",
      path: urls.manifest(this.name, reference),
      headers: { "Content-Type": mediaType },
      body: bytes,
      scope: this.scope("pull", "push"),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201 && res.statusCode !== 200) {
      throw await RemoteError.fromResponse(res.statusCode, text, `push manifest ${this.name}:${reference}`);
    }
    return String(res.headers["docker-content-digest"] ?? digestOf(bytes).toString());
  }

  async deleteManifest(digest: string): Promise<void> {
    const res = await this.transport.request({
      method: "DELETE",
      path: urls.manifest(this.name, digest),
      scope: this.scope("delete"),
    });
    const text = await res.body.text();
    if (res.statusCode !== 202)
      throw await RemoteError.fromResponse(res.statusCode, text, `delete ${digest}`);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.headBlob(digest)) !== undefined;
  }

  /** Size of a blob in this repository, or undefined. */
  async headBlob(digest: string): Promise<number | undefined> {
    const res = await this.transport.request({
      method: "HEAD",
      path: urls.blob(this.name, digest),
      scope: this.scope("pull"),
    });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw await RemoteError.fromResponse(res.statusCode, "", `blob ${digest}`);
    return Number(res.headers["content-length"]);
  }

  /** Opens a blob, from `offset` when resuming (a registry that ignores Range restarts at 0). */
  async getBlob(digest: string, offset = 0): Promise<SourceBlob> {
    const res = await this.transport.request({
      method: "GET",
      path: urls.blob(this.name, digest),
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      scope: this.scope("pull"),
    });
    if (res.statusCode === 200 || res.statusCode === 206) {
      const start = res.statusCode === 206 ? offset : 0;
      return { stream: res.body, offset: start, length: Number(res.headers["content-length"] ?? Number.NaN) };
    }
    const text = await res.body.text();
    if (res.statusCode === 416 && offset > 0) return this.getBlob(digest, 0);
    throw await RemoteError.fromResponse(res.statusCode, text, `blob ${digest}`);
  }

  /**
   * Uploads a blob: a cross-repository mount when `mountFrom` is given and the registry accepts
   * it, else a streamed PATCH and a closing PUT with the digest. Returns "mounted" or "pushed".
   */
  async putBlob(
    digest: string,
    size: number,
    open: OpenBlob,
    mountFrom?: string,
  ): Promise<"mounted" | "pushed"> {
    const query = mountFrom
      ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}`
      : "";
    const scope: Scope = { repository: this.name, actions: ["pull", "push"] };
    // A mount reads the blob from the other repository: the token must grant pull there too.
    const startScope: Scope[] = mountFrom ? [scope, { repository: mountFrom, actions: ["pull"] }] : [scope];
    const start = await this.transport.request({
      method: "POST",
      path: `${urls.uploadStart(this.name)}${query}`,
      scope: startScope,
      headers: { "Content-Length": "0" },
    });
    const startText = await start.body.text();
    if (start.statusCode === 201) return "mounted";
    if (start.statusCode !== 202) {
      throw await RemoteError.fromResponse(start.statusCode, startText, `start upload of ${digest}`);
    }
    const location = this.transport.resolve(String(start.headers.location));
    const patch = await this.transport.request({
      method: "PATCH",
      path: location.toString(),
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(size),
        "Content-Range": `0-${Math.max(0, size - 1)}`,
      },
      // undici writes each chunk to the socket before it takes the next: buffers may be reused.
      body: size > 0 ? await open({ reusedBuffers: true }) : "",
      scope,
      streaming: true,
    });
    const patchText = await patch.body.text();
    if (patch.statusCode !== 202)
      throw await RemoteError.fromResponse(patch.statusCode, patchText, `upload ${digest}`);
    const done = this.transport.resolve(String(patch.headers.location ?? location.toString()));
    done.searchParams.set("digest", digest);
    const put = await this.transport.request({
      method: "PUT",
      path: done.toString(),
      headers: { "Content-Length": "0" },
      scope,
    });
    const putText = await put.body.text();
    if (put.statusCode !== 201)
      throw await RemoteError.fromResponse(put.statusCode, putText, `finish upload of ${digest}`);
    return "pushed";
  }

  /** All tags, following Link pagination. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = urls.tags(this.name);
    while (path) {
      const { value, res }: { value: { tags?: string[] | null }; res: Dispatcher.ResponseData } =
        await this.transport.json<{ tags?: string[] | null }>(
          { method: "GET", path, scope: this.scope("pull") },
          `tags of ${this.name}`,
        );
      tags.push(...(value.tags ?? []));
      path = nextLink(res.headers.link);
    }
    return tags;
  }
}

/** The target of a `Link: <...>; rel="next"` header. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(value);
  return m?.[1];
}

export function bodyStream(data: Buffer): Readable {
  return Readable.from([data]);
}
