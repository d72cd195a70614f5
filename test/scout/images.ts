import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type Entry, makeTar } from "../layer/fixtures.js";

/** Test images written as an OCI layout by the test itself: layers are tars made with tar-stream. */
export interface LayerSpec {
  createdBy: string;
  entries: Entry[];
}

export interface ImageSpec {
  tag: string;
  layers: LayerSpec[];
}

function sha256(b: Buffer): string {
  return `sha256:${createHash("sha256").update(b).digest("hex")}`;
}

export interface BuiltImage {
  tag: string;
  manifestDigest: string;
  configDigest: string;
  layers: { digest: string; diffId: string }[];
}

export async function writeLayout(dir: string, images: ImageSpec[]): Promise<BuiltImage[]> {
  mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
  const put = (b: Buffer) => {
    const d = sha256(b);
    writeFileSync(join(dir, "blobs/sha256", d.slice(7)), b);
    return d;
  };
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const built: BuiltImage[] = [];
  const manifests: object[] = [];
  for (const image of images) {
    const layers: { digest: string; diffId: string; size: number }[] = [];
    for (const layer of image.layers) {
      const tar = await makeTar(layer.entries);
      const gz = gzipSync(tar);
      layers.push({ digest: put(gz), diffId: sha256(tar), size: gz.length });
    }
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Env: ["PATH=/usr/bin:/bin"] },
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
        history: image.layers.map((l) => ({ created: "2024-01-01T00:00:00Z", created_by: l.createdBy })),
      }),
    );
    const configDigest = put(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: configDigest,
          size: config.length,
        },
        layers: layers.map((l) => ({
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: l.digest,
          size: l.size,
        })),
      }),
    );
    const manifestDigest = put(manifest);
    manifests.push({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: manifestDigest,
      size: manifest.length,
      annotations: { "org.opencontainers.image.ref.name": image.tag },
    });
    built.push({ tag: image.tag, manifestDigest, configDigest, layers });
  }
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
  return built;
}

export const file = (name: string, body: string | Buffer, mode = 0o644): Entry => ({
  name,
  body,
  mode,
  mtime: new Date(0),
});
export const whiteout = (path: string): Entry => {
  const i = path.lastIndexOf("/");
  return { name: `${path.slice(0, i + 1)}.wh.${path.slice(i + 1)}`, body: "", mtime: new Date(0) };
};
export const opaque = (dir: string): Entry => ({ name: `${dir}/.wh..wh..opq`, body: "", mtime: new Date(0) });

/** A zip written by Python's zipfile (jars for the tests; no JDK needed). */
export function makeZip(entries: Record<string, string | Buffer>, workDir: string, name: string): Buffer {
  const manifest = join(workDir, `${name}.entries.json`);
  const files: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) {
    const p = join(workDir, `${name}.${Object.keys(files).length}`);
    writeFileSync(p, v);
    files[k] = p;
  }
  writeFileSync(manifest, JSON.stringify(files));
  const out = join(workDir, name);
  execFileSync("python3", [
    "-c",
    "import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[2],'w',zipfile.ZIP_DEFLATED)\nfor k,v in json.load(open(sys.argv[1])).items(): z.write(v,k)\nz.close()",
    manifest,
    out,
  ]);
  return readFileSync(out);
}
