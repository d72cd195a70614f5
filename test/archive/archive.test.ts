import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { berth, berthOk } from "../client/berth.js";
import { fixtureDir, fixtureLayout } from "../helpers/fixtures.js";
import { run, runOk, tempDir } from "../helpers/processes.js";

async function skopeoJson<T>(args: string[]): Promise<T> {
  return JSON.parse((await runOk("skopeo", args)).stdout) as T;
}

async function imageIds(root: string): Promise<string[]> {
  return (await berthOk(root, ["images", "-q", "--no-trunc"])).stdout.split("\n").filter(Boolean);
}

async function tarOf(entries: { name: string; body: string | Buffer }[], path: string): Promise<void> {
  const p = pack();
  for (const e of entries) p.entry({ name: e.name }, e.body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  await writeFile(path, Buffer.concat(chunks));
}

describe("save and load", () => {
  test("loads buildah's docker-archive, skopeo's oci-archive and an OCI layout", async () => {
    const root = await tempDir("berth-load-");
    const busybox = join(fixtureDir(), "busybox.tar");
    const r = await berthOk(root, ["load", "-i", busybox]);
    assert.equal(r.stdout, "Loaded image: busybox:1\n");
    const cfg = await skopeoJson<{ rootfs: { diff_ids: string[] } }>([
      "inspect",
      "--config",
      `docker-archive:${busybox}`,
    ]);
    const inspected = JSON.parse((await berthOk(root, ["image", "inspect", "busybox:1"])).stdout) as {
      RootFS: { Layers: string[] };
    }[];
    assert.deepEqual(inspected[0]!.RootFS.Layers, cfg.rootfs.diff_ids);

    const work = await tempDir("berth-load-work-");
    const ociArchive = join(work, "app.tar");
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      `oci:${fixtureLayout()}:app-1`,
      `oci-archive:${ociArchive}:app-1`,
    ]);
    const fromOci = await berthOk(root, ["load", "-i", ociArchive]);
    const appConfig = await skopeoJson<{ config: { digest: string } }>([
      "inspect",
      "--raw",
      `oci:${fixtureLayout()}:app-1`,
    ]);
    assert.equal(fromOci.stdout, `Loaded image ID: ${appConfig.config.digest}\n`);
    await berthOk(root, ["load", "-i", fixtureLayout()]);
    assert.ok((await imageIds(root)).includes(appConfig.config.digest));
  });

  test("save writes a docker-archive and an OCI layout that skopeo reads back identically", async () => {
    const root = await tempDir("berth-save-");
    await berthOk(root, ["load", "-i", join(fixtureDir(), "busybox.tar")]);
    await berthOk(root, ["load", "-i", fixtureLayout()]);
    const app = (
      await skopeoJson<{ config: { digest: string } }>(["inspect", "--raw", `oci:${fixtureLayout()}:app-1`])
    ).config.digest;
    await berthOk(root, ["tag", app, "example.com/team/app:2"]);
    const out = join(await tempDir("berth-save-out-"), "images.tar");
    await berthOk(root, ["save", "-o", out, "busybox:1", "example.com/team/app:2"]);

    const manifestJson = JSON.parse((await runOk("tar", ["-xOf", out, "manifest.json"])).stdout) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    assert.deepEqual(
      manifestJson.map((m) => m.RepoTags),
      [["busybox:1"], ["example.com/team/app:2"]],
    );

    const viaDocker = await skopeoJson<{ config: { digest: string } }>([
      "inspect",
      "--raw",
      `docker-archive:${out}:example.com/team/app:2`,
    ]);
    const srcCfg = await skopeoJson<{ rootfs: { diff_ids: string[] } }>([
      "inspect",
      "--config",
      `oci:${fixtureLayout()}:app-1`,
    ]);
    const dockerCfg = await skopeoJson<{ rootfs: { diff_ids: string[] } }>([
      "inspect",
      "--config",
      `docker-archive:${out}:example.com/team/app:2`,
    ]);
    assert.deepEqual(dockerCfg.rootfs.diff_ids, srcCfg.rootfs.diff_ids);
    assert.equal(viaDocker.config.digest, app);

    const index = JSON.parse((await runOk("tar", ["-xOf", out, "index.json"])).stdout) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    const appEntry = index.manifests.find(
      (m) => m.annotations["io.containerd.image.name"] === "example.com/team/app:2",
    )!;
    const original = await runOk("skopeo", ["inspect", "--raw", `oci:${fixtureLayout()}:app-1`]);
    const saved = await runOk("tar", ["-xOf", out, `blobs/sha256/${appEntry.digest.slice(7)}`]);
    assert.equal(saved.stdout, original.stdout, "the OCI side keeps the image's manifest byte for byte");

    const copied = await tempDir("berth-save-copy-");
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      `docker-archive:${out}:busybox:1`,
      `oci:${copied}:bb`,
    ]);
    await runOk("skopeo", ["copy", "--insecure-policy", `oci-archive:${out}:2`, `oci:${copied}:app`]);
    const round = await skopeoJson<{ rootfs: { diff_ids: string[] } }>([
      "inspect",
      "--config",
      `oci:${copied}:app`,
    ]);
    assert.deepEqual(round.rootfs.diff_ids, srcCfg.rootfs.diff_ids);

    // And back into a fresh store, through stdin.
    const again = await tempDir("berth-save-again-");
    const loaded = await berth(again, ["load"], { input: await readFile(out) });
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(loaded.stdout, "Loaded image: busybox:1\nLoaded image: example.com/team/app:2\n");
  });

  test("hostile or broken archives are refused and load nothing", async () => {
    const work = await tempDir("berth-hostile-");
    const escaping = join(work, "escape.tar");
    await tarOf(
      [
        { name: "../evil", body: "x" },
        { name: "manifest.json", body: "[]" },
      ],
      escaping,
    );
    const corrupt = join(work, "layout");
    await cp(fixtureLayout(), corrupt, { recursive: true });
    const manifest = await skopeoJson<{ layers: { digest: string }[] }>([
      "inspect",
      "--raw",
      `oci:${fixtureLayout()}:app-1`,
    ]);
    const layerFile = join(corrupt, "blobs/sha256", manifest.layers[2]!.digest.slice(7));
    const bytes = await readFile(layerFile);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    await writeFile(layerFile, bytes);
    const truncated = join(work, "truncated.tar");
    await cp(join(fixtureDir(), "busybox.tar"), truncated);
    await truncate(truncated, 4096);
    const notTar = join(work, "not.tar");
    await writeFile(notTar, "this is not a tar archive at all, just text\n".repeat(20));
    const missing = join(work, "missing.tar");
    await tarOf(
      [{ name: "manifest.json", body: JSON.stringify([{ Config: "c.json", Layers: ["l.tar"] }]) }],
      missing,
    );

    const corruptApp = (
      await skopeoJson<{ config: { digest: string } }>(["inspect", "--raw", `oci:${fixtureLayout()}:app-1`])
    ).config.digest;
    for (const [what, input, message] of [
      ["member with ..", escaping, /escape|\.\./],
      ["blob digest mismatch", corrupt, /digest/i],
      ["truncated", truncated, /tar|archive|end/i],
      ["not a tar", notTar, /tar|archive/i],
      ["missing members", missing, /no c\.json|archive has no/],
    ] as const) {
      const root = await tempDir("berth-hostile-root-");
      const r = await berth(root, ["load", "-i", input]);
      assert.equal(r.code, 1, `${what}: ${r.stdout}`);
      assert.match(r.stderr, message, what);
      const ids = await imageIds(root);
      // A layout holds several images: those before the broken one load, as with docker load.
      if (input === corrupt) assert.ok(!ids.includes(corruptApp), "the corrupt image is not recorded");
      else assert.deepEqual(ids, [], `${what}: no image recorded`);
    }
    const outside = await run("ls", [join(work, "..", "evil")]);
    assert.notEqual(outside.code, 0, "nothing written outside");
  });

  test("a blob kept for a layer that already exists must still decompress to its diff_id", async () => {
    const root = await tempDir("berth-poison-");
    const busybox = join(fixtureDir(), "busybox.tar");
    await berthOk(root, ["load", "-q", "-i", busybox]);
    // An OCI layout naming busybox's config (so its one layer is already unpacked) with other bytes as that layer.
    const config = Buffer.from(
      (await runOk("skopeo", ["inspect", "--raw", "--config", `docker-archive:${busybox}`])).stdout,
    );
    const junk = gzipSync(Buffer.from("not the layer the config describes"));
    const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
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
          { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(junk), size: junk.length },
        ],
      }),
    );
    const layout = await tempDir("berth-poison-layout-");
    await mkdir(join(layout, "blobs/sha256"), { recursive: true });
    for (const blob of [config, junk, manifest])
      await writeFile(join(layout, "blobs/sha256", sha(blob).slice(7)), blob);
    await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await writeFile(
      join(layout, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: sha(manifest),
            size: manifest.length,
            annotations: { "io.containerd.image.name": "docker.io/library/poison:1" },
          },
        ],
      }),
    );
    const r = await berth(root, ["load", "-i", layout]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /diff_id/);
    const images = (await berthOk(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout;
    assert.equal(images, "busybox:1\n", "nothing named after the crafted archive");
    assert.ok(
      !existsSync(join(root, "content/blobs/sha256", sha(junk).slice(7))),
      "the junk blob is not kept",
    );
  });
});
