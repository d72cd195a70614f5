import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { getGlobalDispatcher } from "undici";

/** A minimal raw HTTP client for the spec tests: status, headers and body as the server sent them. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json<T = unknown>(): T;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Buffer | string | AsyncIterable<Buffer> } = {},
): Promise<RawResponse> {
  // The dispatcher sends the path as given: a URL object would resolve "..", which the tests want to send.
  const res = await getGlobalDispatcher().request({
    origin: base,
    path,
    method: method as "GET",
    headers: opts.headers,
    body:
      opts.body === undefined || typeof opts.body === "string" || Buffer.isBuffer(opts.body)
        ? opts.body
        : Readable.from(opts.body),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
  return {
    status: res.statusCode,
    headers,
    body,
    json: <T>() => JSON.parse(body.toString("utf8")) as T,
  };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function errorCode(res: RawResponse): string | undefined {
  try {
    return res.json<{ errors: { code: string }[] }>().errors[0]?.code;
  } catch {
    return undefined;
  }
}

/** Pushes a blob with a monolithic POST ?digest= and returns its digest. */
export async function pushBlob(base: string, name: string, data: Buffer | string): Promise<string> {
  const digest = sha256(data);
  const res = await call(base, "POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, {
    body: data,
    headers: { "Content-Type": "application/octet-stream" },
  });
  if (res.status !== 201) throw new Error(`push blob: ${res.status} ${res.body.toString()}`);
  return digest;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

/** Pushes a config and one layer and returns a manifest body referencing them. */
export async function makeImage(
  base: string,
  name: string,
  seed: string,
  extra: Record<string, unknown> = {},
): Promise<{ manifest: Buffer; digest: string; config: string; layer: string }> {
  const config = await pushBlob(
    base,
    name,
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, seed }),
  );
  const layerBytes = Buffer.from(`layer ${seed}`);
  const layer = await pushBlob(base, name, layerBytes);
  const configSize = (await call(base, "HEAD", `/v2/${name}/blobs/${config}`)).headers["content-length"];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config, size: Number(configSize) },
      layers: [{ mediaType: OCI_LAYER, digest: layer, size: layerBytes.length }],
      ...extra,
    }),
  );
  return { manifest, digest: sha256(manifest), config, layer };
}

export async function putManifest(
  base: string,
  name: string,
  reference: string,
  body: Buffer,
  mediaType = OCI_MANIFEST,
): Promise<RawResponse> {
  return call(base, "PUT", `/v2/${name}/manifests/${reference}`, {
    body,
    headers: { "Content-Type": mediaType },
  });
}
