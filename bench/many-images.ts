import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { RemoteRepository } from "../src/remote/repository.js";
import { createRegistryClient } from "../src/remote/transport/client.js";

/** 100 small distinct images (one shared layer, different configs) as tags of one repository. */
export async function seedMany(host: string): Promise<void> {
  const repo = new RemoteRepository(createRegistryClient({ host }), "bench/many");
  const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  const put = (b: Buffer) => repo.putBlob(sha(b), b.length, async () => Readable.from([b]));
  const p = pack();
  p.entry({ name: "hello.txt" }, "hello\n");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  const layer = Buffer.concat(chunks);
  await put(layer);
  for (let i = 0; i < 100; i++) {
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        created: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
        config: { Cmd: ["sh"], Labels: { n: String(i) } },
        rootfs: { type: "layers", diff_ids: [sha(layer)] },
        history: [{ created_by: `image ${i}` }],
      }),
    );
    await put(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha(config),
          size: config.length,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(layer), size: layer.length },
        ],
      }),
    );
    await repo.putManifest(`t${i}`, manifest, "application/vnd.oci.image.manifest.v1+json");
  }
}
