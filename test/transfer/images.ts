import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

/**
 * Small images written straight into an OCI layout (files, no code under test), for the
 * cases the buildah fixtures do not have: a nested index and a layer kept elsewhere (foreign).
 */
export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

export function blobOf(mediaType: string, bytes: Buffer): Blob {
  return {
    mediaType,
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    size: bytes.length,
    bytes,
  };
}

const desc = (b: Blob, extra: object = {}) => ({
  mediaType: b.mediaType,
  digest: b.digest,
  size: b.size,
  ...extra,
});

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const [name, body] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name, mode: 0o644, mtime: new Date(1700000000000) }, body, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** An image of gzip layers holding the given files, one layer per map; `foreign` marks layers kept at a URL. */
export async function makeImage(
  layers: Record<string, string>[],
  opts: { arch?: string; variant?: string; foreign?: Map<number, string> } = {},
): Promise<{ manifest: Blob; config: Blob; layers: Blob[] }> {
  const tars = await Promise.all(layers.map(tarOf));
  const layerBlobs = tars.map((t, i) =>
    blobOf(
      opts.foreign?.has(i)
        ? "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        : "application/vnd.oci.image.layer.v1.tar+gzip",
      gzipSync(t),
    ),
  );
  const config = blobOf(
    "application/vnd.oci.image.config.v1+json",
    Buffer.from(
      JSON.stringify({
        architecture: opts.arch ?? "amd64",
        ...(opts.variant ? { variant: opts.variant } : {}),
        os: "linux",
        config: { Cmd: ["sh"] },
        rootfs: {
          type: "layers",
          diff_ids: tars.map((t) => `sha256:${createHash("sha256").update(t).digest("hex")}`),
        },
      }),
    ),
  );
  const manifest = blobOf(
    "application/vnd.oci.image.manifest.v1+json",
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: desc(config),
        layers: layerBlobs.map((l, i) =>
          desc(l, opts.foreign?.has(i) ? { urls: [opts.foreign.get(i)] } : {}),
        ),
      }),
    ),
  );
  return { manifest, config, layers: layerBlobs };
}

export function indexOf(entries: { blob: Blob; platform?: object }[]): Blob {
  return blobOf(
    "application/vnd.oci.image.index.v1+json",
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: entries.map((e) => desc(e.blob, e.platform ? { platform: e.platform } : {})),
      }),
    ),
  );
}

/** Writes blobs and tagged roots as an OCI image layout. */
export async function writeLayout(dir: string, blobs: Blob[], tags: Record<string, Blob>): Promise<void> {
  await mkdir(join(dir, "blobs/sha256"), { recursive: true });
  for (const b of blobs) await writeFile(join(dir, "blobs/sha256", b.digest.slice(7)), b.bytes);
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const manifests = Object.entries(tags).map(([tag, b]) => ({
    ...desc(b),
    annotations: { "org.opencontainers.image.ref.name": tag },
  }));
  await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
}

export async function readLayoutBlob(dir: string, digest: string): Promise<Buffer> {
  return readFile(join(dir, "blobs/sha256", digest.replace(/^sha256:/, "")));
}

/** A web server for foreign layers: serves the given blobs by path and counts requests. */
export async function serveBlobs(
  files: Map<string, Buffer>,
): Promise<{ url: (path: string) => string; hits: Map<string, number>; server: Server }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    hits.set(req.url ?? "", (hits.get(req.url ?? "") ?? 0) + 1);
    if (!body) {
      res.writeHead(404);
      res.end("not here");
      return;
    }
    res.writeHead(200, { "Content-Length": body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: (path) => `http://127.0.0.1:${port}${path}`, hits, server };
}
