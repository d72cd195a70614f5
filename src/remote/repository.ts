import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { Digest, digestOf } from "../oci/digest.js";
import { urls } from "../oci/distribution-routes.js";
import { MANIFEST_MEDIA_TYPES } from "../oci/media-types.js";
import { RemoteError } from "./errors.js";
import type { RegistryClient } from "./transport/client.js";
import type { Scope } from "./transport/request.js";
import { resumableBody } from "./transport/resumable.js";
import { backoff, isTransientError, isTransientStatus, parseRetryAfter } from "./transport/retry-policy.js";

export interface RemoteManifest {
  bytes: Buffer;
  /** The Content-Type the registry sent, without parameters. */
  mediaType: string;
  digest: Digest;
}

export interface RemoteBlob {
  /** The bytes from `offset` on; a connection cut part-way is resumed with Range, invisibly. */
  stream: Readable;
  offset: number;
  length: number;
}

/** Opens what to upload, from an offset (an upload resumed where the registry says it stopped). */
export type UploadBody = (offset: number) => Promise<AsyncIterable<Uint8Array>>;

/**
 * One repository on a remote registry, spoken to through the distribution protocol. Requests
 * that fail on the way are repeated by the client's transport layers; this class adds what
 * needs the protocol: a blob download cut off part-way continues with a Range request from
 * where it stopped (transport/resumable.ts), and an upload whose PATCH or PUT failed asks the
 * registry how much it has and goes on from there.
 */
export class RemoteRepository {
  readonly description: string;

  constructor(
    readonly client: RegistryClient,
    readonly name: string,
  ) {
    this.description = `${client.registry}/${name}`;
  }

  private scope(...actions: Scope["actions"]): Scope {
    return { repository: this.name, actions };
  }

  /**
   * Fetches a manifest by tag or digest, accepting all four manifest types. The digest is
   * computed from the bytes; when fetched by digest, bytes that hash otherwise are refused.
   */
  async getManifest(reference: string): Promise<RemoteManifest> {
    const res = await this.client.request({
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
        `manifest ${this.description}${reference.includes(":") ? "@" : ":"}${reference}`,
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
          `manifest verification failed for ${this.description}@${reference}: the registry served content with digest ${digest}`,
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
    const res = await this.client.request({
      method: "HEAD",
      path: urls.manifest(this.name, reference),
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(", ") },
      scope: this.scope("pull"),
    });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200)
      throw await RemoteError.fromResponse(res.statusCode, "", `manifest ${this.description}:${reference}`);
    const digest = res.headers["docker-content-digest"];
    return {
      digest: typeof digest === "string" ? digest : undefined,
      mediaType: String(res.headers["content-type"] ?? ""),
      size: Number(res.headers["content-length"] ?? 0),
    };
  }

  /** PUT of a manifest: the same bytes under the same reference twice is the same push, so it may be repeated. */
  async putManifest(tag: string | undefined, bytes: Buffer, mediaType: string): Promise<string> {
    const reference = tag ?? digestOf(bytes).toString();
    const res = await this.client.request({
      method: "PUT",
      path: urls.manifest(this.name, reference),
      headers: { "Content-Type": mediaType },
      body: bytes,
      scope: this.scope("pull", "push"),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201 && res.statusCode !== 200) {
      throw await RemoteError.fromResponse(
        res.statusCode,
        text,
        `push manifest ${this.description}${tag ? ":" : "@"}${reference}`,
      );
    }
    return String(res.headers["docker-content-digest"] ?? digestOf(bytes).toString());
  }

  async deleteManifest(digest: string): Promise<void> {
    const res = await this.client.request({
      method: "DELETE",
      path: urls.manifest(this.name, digest),
      scope: this.scope("delete"),
    });
    const text = await res.body.text();
    if (res.statusCode !== 202)
      throw await RemoteError.fromResponse(res.statusCode, text, `delete ${this.description}@${digest}`);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.headBlob(digest)) !== undefined;
  }

  /** Size of a blob in this repository, or undefined. */
  async headBlob(digest: string): Promise<number | undefined> {
    const res = await this.client.request({
      method: "HEAD",
      path: urls.blob(this.name, digest),
      scope: this.scope("pull"),
    });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw await RemoteError.fromResponse(res.statusCode, "", `blob ${digest}`);
    return Number(res.headers["content-length"]);
  }

  /**
   * Opens a blob from `offset` (a registry that ignores Range starts at 0: check the answer's
   * offset). When the connection breaks part-way, the stream goes on by itself: the rest is
   * asked for with Range, up to the client's download attempts, and a registry that answers
   * 200 to that has the bytes already sent skipped. The caller verifies the digest.
   */
  async getBlob(digest: string, offset = 0, size?: number): Promise<RemoteBlob> {
    const first = await this.openBlob(digest, offset);
    const length = size !== undefined ? size - first.offset : first.length;
    const end = Number.isFinite(length) ? first.offset + length : undefined;
    const stream = resumableBody({
      first,
      end,
      policy: this.client.policy("GET"),
      reopen: (position) => this.openBlob(digest, position),
      what: `blob ${digest}`,
      url: () => this.client.resolve(urls.blob(this.name, digest)).toString(),
    });
    return { stream, offset: first.offset, length };
  }

  private async openBlob(
    digest: string,
    offset: number,
  ): Promise<{ body: AsyncIterable<unknown>; offset: number; length: number }> {
    const res = await this.client.request({
      method: "GET",
      path: urls.blob(this.name, digest),
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      scope: this.scope("pull"),
    });
    if (res.statusCode === 200 || res.statusCode === 206) {
      const start = res.statusCode === 206 ? offset : 0;
      return { body: res.body, offset: start, length: Number(res.headers["content-length"] ?? Number.NaN) };
    }
    const text = await res.body.text();
    if (res.statusCode === 416 && offset > 0) return this.openBlob(digest, 0);
    throw await RemoteError.fromResponse(res.statusCode, text, `blob ${digest}`);
  }

  /**
   * Uploads a blob: a cross-repository mount when `mountFrom` is given and the registry accepts
   * it, else POST, one streamed PATCH and a closing PUT with the digest. A PATCH or PUT that
   * fails is not repeated blindly: the registry is asked what it holds (the upload's status,
   * or whether the blob now exists), and the upload goes on from its offset, or starts over
   * when the registry has forgotten the session. Returns "mounted" or "pushed".
   */
  async putBlob(
    digest: string,
    size: number,
    body: UploadBody,
    opts: { mountFrom?: string; onProgress?: (sent: number) => void } = {},
  ): Promise<"mounted" | "pushed"> {
    const policy = this.client.policy("PUT");
    // The POST is repeated by the transport; what follows it is resumed here.
    const started = await this.startUpload(digest, opts.mountFrom);
    if (started === "mounted") return "mounted";
    let location: URL | undefined = started;
    let offset = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!location) {
          const restarted = await this.startUpload(digest);
          if (restarted === "mounted") return "mounted";
          location = restarted;
          offset = 0;
        }
        if (offset < size) {
          location = await this.patch(location, digest, offset, size, body, opts.onProgress);
          offset = size;
        }
        await this.finish(location, digest);
        return "pushed";
      } catch (err) {
        if (attempt >= policy.attempts || !worthResuming(err)) throw err;
        await backoff(attempt, policy, err instanceof RemoteError ? err.retryAfterMs : undefined);
        if ((await this.headBlob(digest).catch(() => undefined)) === size) return "pushed";
        if (!location) continue;
        const status: { location: URL; offset: number } | undefined = await this.uploadStatus(location).catch(
          () => undefined,
        );
        if (!status) {
          location = undefined;
          continue;
        }
        location = status.location;
        offset = status.offset;
      }
    }
  }

  private async startUpload(digest: string, mountFrom?: string): Promise<URL | "mounted"> {
    const query = mountFrom
      ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}`
      : "";
    const scope = this.scope("pull", "push");
    // A mount reads the blob from the other repository: the token must grant pull there too.
    const startScope: Scope[] = mountFrom ? [scope, { repository: mountFrom, actions: ["pull"] }] : [scope];
    const start = await this.client.request({
      method: "POST",
      path: `${urls.uploadStart(this.name)}${query}`,
      scope: startScope,
      headers: { "Content-Length": "0" },
    });
    const text = await start.body.text();
    if (start.statusCode === 201) return "mounted";
    if (start.statusCode !== 202) {
      throw await RemoteError.fromResponse(start.statusCode, text, `start upload of blob ${digest}`);
    }
    return this.client.resolve(String(start.headers.location));
  }

  private async patch(
    location: URL,
    digest: string,
    offset: number,
    size: number,
    body: UploadBody,
    onProgress?: (sent: number) => void,
  ): Promise<URL> {
    let sent = offset;
    const source = size > offset ? await body(offset) : undefined;
    const counted = source
      ? (async function* () {
          for await (const chunk of source) {
            sent += chunk.length;
            onProgress?.(sent);
            yield chunk;
          }
        })()
      : undefined;
    const res = await this.client.request({
      method: "PATCH",
      path: location.toString(),
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(size - offset),
        "Content-Range": `${offset}-${Math.max(offset, size - 1)}`,
      },
      // undici writes each chunk to the socket before it takes the next: buffers may be reused.
      body: counted ?? "",
      scope: this.scope("pull", "push"),
      streaming: true,
    });
    const text = await res.body.text();
    if (res.statusCode !== 202) {
      throw withRetryAfter(
        await RemoteError.fromResponse(res.statusCode, text, `upload of blob ${digest}`),
        res.headers["retry-after"],
      );
    }
    return this.client.resolve(String(res.headers.location ?? location.toString()));
  }

  private async finish(location: URL, digest: string): Promise<void> {
    const done = new URL(location);
    done.searchParams.set("digest", digest);
    // Not repeated by the transport: a PUT that reached the registry before its answer was
    // lost would fail the second time. putBlob checks what the registry has instead.
    const put = await this.client.request({
      method: "PUT",
      path: done.toString(),
      headers: { "Content-Length": "0" },
      scope: this.scope("pull", "push"),
      retry: false,
    });
    const text = await put.body.text();
    if (put.statusCode !== 201) {
      throw withRetryAfter(
        await RemoteError.fromResponse(put.statusCode, text, `finish upload of blob ${digest}`),
        put.headers["retry-after"],
      );
    }
  }

  /**
   * How much of an upload the registry holds: `Range: 0-N` means bytes 0..N. Distribution
   * answers "0-0" for both 0 and 1 bytes, so that is read as 0 (the next PATCH says where it
   * starts, and a registry holding one byte refuses it, which starts the upload over).
   */
  private async uploadStatus(location: URL): Promise<{ location: URL; offset: number } | undefined> {
    const res = await this.client.request({
      method: "GET",
      path: location.toString(),
      scope: this.scope("pull", "push"),
    });
    await res.body.dump();
    if (res.statusCode !== 204 && res.statusCode !== 202) return undefined;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(String(res.headers.range ?? ""));
    const last = range ? Number(range[1]) : -1;
    return {
      location: this.client.resolve(String(res.headers.location ?? location.toString())),
      offset: last > 0 ? last + 1 : 0,
    };
  }

  /** All tags, following Link pagination. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = urls.tags(this.name);
    while (path) {
      const { value, res }: { value: { tags?: string[] | null }; res: Dispatcher.ResponseData } =
        await this.client.json<{ tags?: string[] | null }>(
          { method: "GET", path, scope: this.scope("pull") },
          `tags of ${this.description}`,
        );
      tags.push(...(value.tags ?? []));
      path = nextLink(res.headers.link);
    }
    return tags;
  }
}

/** An upload step that failed in a way a second try may cure: a broken connection, or a "try later" answer. */
function worthResuming(err: unknown): boolean {
  if (err instanceof RemoteError) return isTransientStatus(err.status) || err.code === "RANGE_INVALID";
  return isTransientError(err);
}

function withRetryAfter(err: RemoteError, header: string | string[] | undefined): RemoteError {
  err.retryAfterMs = parseRetryAfter(header);
  return err;
}

/** The target of a `Link: <...>; rel="next"` header. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(value);
  return m?.[1];
}
