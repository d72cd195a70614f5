import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { cp, readdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  ArchiveDigestMismatchError,
  ArchiveError,
  MissingMemberError,
  NotAnArchiveError,
  openArchiveSource,
  TruncatedArchiveError,
  UnknownArchiveFormatError,
  UnsafeMemberError,
} from "../../src/archive/index.js";
import { loadArchive } from "../../src/archive/load.js";
import { DiffIdMismatchError } from "../../src/layer/errors.js";
import { Digest, digestOf } from "../../src/oci/digest.js";
import { familiarString } from "../../src/oci/reference.js";
import { runOk, tempDir } from "../helpers/processes.js";
import { contents, imageFixtures, newStore, rawConfig, rawManifest, writeTar } from "./helpers.js";

let fx: string;
let layout: string;
let busyboxTar: string;
before(async () => {
  fx = await imageFixtures();
  layout = join(fx, "oci");
  busyboxTar = join(fx, "busybox.tar");
});

async function ociArchive(tag: string, destRef = tag): Promise<string> {
  const out = join(await tempDir("berth-load-oci-"), "image.tar");
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    `oci:${layout}:${tag}`,
    `oci-archive:${out}:${destRef}`,
  ]);
  return out;
}

describe("load", () => {
  test("buildah's docker-archive: named by RepoTags, layers unpacked with their diff_ids", async () => {
    const store = await newStore();
    const config = await rawConfig(`docker-archive:${busyboxTar}`);
    const imageId = (await rawManifest(`docker-archive:${busyboxTar}`)).config.digest;
    const loaded = await loadArchive(store, busyboxTar);
    assert.deepEqual(
      loaded.map((l) => ({ id: l.imageId, names: l.names.map(familiarString) })),
      [{ id: imageId, names: ["busybox:1"] }],
    );
    assert.equal(store.db.tagged("docker.io/library/busybox", "1"), imageId);
    assert.deepEqual(
      store.db.imageLayers(imageId).map((l) => l.diffId),
      config.rootfs.diff_ids,
    );
    // The layer file (a plain tar here) is kept as the layer's blob, so the image can be saved or pushed.
    const manifest = JSON.parse((await store.content.readAll(Digest.parse(loaded[0]!.manifest))).toString());
    assert.equal(manifest.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar");
    assert.equal(manifest.layers[0].digest, config.rootfs.diff_ids[0]);
  });

  test("an OCI archive from skopeo: the image keeps its manifest; a bare ref.name names nothing", async () => {
    const store = await newStore();
    const app = await rawManifest(`oci:${layout}:app-1`);
    const appManifest = digestOf(
      (await runOk("skopeo", ["inspect", "--raw", `oci:${layout}:app-1`])).stdout,
    ).toString();
    const loaded = await loadArchive(store, await ociArchive("app-1"));
    assert.deepEqual(loaded, [{ imageId: app.config.digest, manifest: appManifest, names: [] }]);
    assert.deepEqual(contents(store), { images: [app.config.digest], tags: [] });

    const named = await loadArchive(store, await ociArchive("busybox-1", "example.com/bb:3"));
    assert.deepEqual(
      named.map((l) => l.names.map(familiarString)),
      [["example.com/bb:3"]],
    );
    assert.equal(store.db.tagged("example.com/bb", "3"), named[0]!.imageId);
  });

  test("an OCI layout directory; an index resolves to the host's platform", async () => {
    const store = await newStore();
    const busybox = (await rawManifest(`oci:${layout}:busybox-1`)).config.digest;
    const app = (await rawManifest(`oci:${layout}:app-1`)).config.digest;
    const loaded = await loadArchive(store, layout, { platform: { os: "linux", architecture: "amd64" } });
    assert.deepEqual(
      loaded.map((l) => l.imageId),
      [busybox, app, busybox],
    );
    assert.deepEqual(contents(store).images.sort(), [busybox, app].sort());
    const arm = await loadArchive(await newStore(), layout, {
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    }).catch((err: Error) => err);
    // busybox-1 and app-1 are amd64 images: asking for arm64 refuses the first.
    assert.ok(arm instanceof Error && /no matching manifest|platform/i.test(arm.message), String(arm));
  });

  test("gzip-compressed archives, archives on a stream, and openArchiveSource", async () => {
    const work = await tempDir("berth-load-gz-");
    const gz = join(work, "busybox.tar.gz");
    await writeFile(gz, gzipSync(await readFile(busyboxTar)));
    const imageId = (await rawManifest(`docker-archive:${busyboxTar}`)).config.digest;
    for (const input of [gz, () => createReadStream(busyboxTar), () => createReadStream(gz)]) {
      const store = await newStore();
      const loaded = await loadArchive(store, typeof input === "string" ? input : input());
      assert.equal(loaded[0]!.imageId, imageId);
      assert.deepEqual(contents(store).tags, ["docker.io/library/busybox:1"]);
      assert.deepEqual(await readdir(store.tmpDir()), [], "the copy of the stream is removed");
    }

    const archive = await openArchiveSource(busyboxTar);
    try {
      assert.equal(archive.format, "docker-archive");
      assert.equal(archive.images.length, 1);
      const [image] = archive.images;
      assert.deepEqual(image!.names, ["docker.io/library/busybox:1"]);
      const m = await image!.source.getManifest(image!.reference);
      assert.equal(m.digest.toString(), image!.reference);
      const manifest = JSON.parse(m.bytes.toString()) as { layers: { digest: string; size: number }[] };
      const layer = manifest.layers[0]!;
      assert.equal(archive.memberOf(layer.digest), `${layer.digest.slice(7)}.tar`);
      const blob = await image!.source.getBlob(layer.digest, 1000);
      assert.equal(blob.offset, 1000);
      assert.equal(blob.length, layer.size - 1000);
      let n = 0;
      for await (const c of blob.stream) n += (c as Buffer).length;
      assert.equal(n, layer.size - 1000);
    } finally {
      await archive.close();
    }
    const oci = await openArchiveSource(await ociArchive("app-1"));
    assert.equal(oci.format, "oci-archive");
    await oci.close();
    const dir = await openArchiveSource(layout);
    assert.equal(dir.format, "oci-layout");
    assert.equal(dir.images.length, 3);
    await dir.close();
  });
});

describe("load refuses broken and hostile archives and records nothing", () => {
  async function refused(input: string, kind: new (...a: never[]) => Error, message?: RegExp) {
    const store = await newStore();
    const err = await loadArchive(store, input).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    if (message) assert.match((err as Error).message, message);
    assert.deepEqual(contents(store), { images: [], tags: [] });
    return Object.assign(err as Error, { store });
  }

  test("a member or link leaving the archive", async () => {
    const work = await tempDir("berth-hostile-path-");
    const escaping = join(work, "escape.tar");
    await writeTar(escaping, [
      { name: "../evil", body: "x" },
      { name: "manifest.json", body: "[]" },
    ]);
    await refused(escaping, UnsafeMemberError, /"\.\.\/evil".*climbs out/);

    const config = (await runOk("tar", ["-xOf", busyboxTar, "manifest.json"])).stdout;
    const entry = (JSON.parse(config) as { Config: string; Layers: string[] }[])[0]!;
    const linked = join(work, "link.tar");
    await writeTar(linked, [
      { name: entry.Config, body: (await runOk("tar", ["-xOf", busyboxTar, entry.Config])).stdout },
      { name: "layer.tar", type: "symlink", linkname: "../../../etc/passwd" },
      { name: "manifest.json", body: JSON.stringify([{ Config: entry.Config, Layers: ["layer.tar"] }]) },
    ]);
    await refused(linked, UnsafeMemberError, /symlink/);
  });

  test("a blob whose bytes do not match its digest, in an OCI archive and an OCI layout", async () => {
    const work = await tempDir("berth-hostile-digest-");
    const app = await rawManifest(`oci:${layout}:app-1`);
    const big = app.layers.reduce((a, b) => (b.size > a.size ? b : a));

    // In a tar, every blob is hashed while indexing: refused before anything is stored.
    const archive = await ociArchive("app-1");
    const bytes = await readFile(archive);
    const at = bytes.indexOf(Buffer.from(big.digest.slice(7)));
    assert.ok(at > 0);
    bytes[at + 512 + 100_000] = bytes[at + 512 + 100_000]! ^ 0xff;
    await writeFile(archive, bytes);
    await refused(
      archive,
      ArchiveDigestMismatchError,
      new RegExp(`blobs/sha256/${big.digest.slice(7)}.*corrupt`),
    );

    // In a directory, a large blob is verified as it is stored; busybox-1 (listed before app-1)
    // was loaded by then and is removed again.
    const dir = join(work, "layout");
    await cp(layout, dir, { recursive: true });
    const file = join(dir, "blobs/sha256", big.digest.slice(7));
    const content = await readFile(file);
    content[content.length - 100] = content[content.length - 100]! ^ 0xff;
    await writeFile(file, content);
    await refused(dir, ArchiveDigestMismatchError, /does not match its digest/);

    // A size that disagrees with the descriptor is caught up front.
    await truncate(file, content.length - 1);
    await refused(dir, ArchiveError, /bytes, but/);
  });

  test("a truncated archive, something that is not an archive, missing files", async () => {
    const work = await tempDir("berth-hostile-misc-");
    const truncated = join(work, "truncated.tar");
    await cp(busyboxTar, truncated);
    await truncate(truncated, 4096);
    await refused(truncated, TruncatedArchiveError, /truncated/);
    const truncatedGz = join(work, "truncated.tar.gz");
    await writeFile(truncatedGz, gzipSync(await readFile(busyboxTar)).subarray(0, 5000));
    await refused(truncatedGz, TruncatedArchiveError);

    const notTar = join(work, "not.tar");
    await writeFile(notTar, "this is not a tar archive at all, just text\n".repeat(20));
    await refused(notTar, NotAnArchiveError, /not a tar archive/);
    await refused(join(work, "absent.tar"), ArchiveError, /no such file/);

    const missing = join(work, "missing.tar");
    await writeTar(missing, [
      { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", Layers: ["l.tar"] }]) },
    ]);
    await refused(missing, MissingMemberError, /has no "c\.json", which manifest\.json names/);

    const neither = join(work, "neither.tar");
    await writeTar(neither, [{ name: "hello.txt", body: "hi" }]);
    await refused(neither, UnknownArchiveFormatError, /neither manifest\.json/);

    const badJson = join(work, "bad.tar");
    await writeTar(badJson, [{ name: "manifest.json", body: "{" }]);
    await refused(badJson, ArchiveError, /manifest\.json .* not valid JSON/);

    const layoutDir = join(work, "layout");
    await cp(layout, layoutDir, { recursive: true });
    const app = await rawManifest(`oci:${layout}:app-1`);
    await runOk("rm", [join(layoutDir, "blobs/sha256", app.layers[1]!.digest.slice(7))]);
    await refused(layoutDir, MissingMemberError, /has no "blobs\/sha256\//);
  });

  test("a plain layer that is not its diff_id is refused even when the store has that layer", async () => {
    const store = await newStore();
    await loadArchive(store, busyboxTar);
    const before = contents(store);
    const entry = (
      JSON.parse((await runOk("tar", ["-xOf", busyboxTar, "manifest.json"])).stdout) as { Config: string }[]
    )[0]!;
    const config = JSON.parse((await runOk("tar", ["-xOf", busyboxTar, entry.Config])).stdout) as {
      created?: string;
    };
    config.created = "2024-01-01T00:00:00Z";
    const archive = join(await tempDir("berth-hostile-plain-"), "junk.tar");
    await writeTar(archive, [
      { name: "c.json", body: JSON.stringify(config) },
      { name: "junk.tar", body: Buffer.alloc(2048) },
      {
        name: "manifest.json",
        body: JSON.stringify([{ Config: "c.json", RepoTags: ["junk:1"], Layers: ["junk.tar"] }]),
      },
    ]);
    await assert.rejects(loadArchive(store, archive), (err: unknown) => {
      assert.ok(err instanceof ArchiveDigestMismatchError, String(err));
      assert.match(err.message, /"junk\.tar" .* does not match its diff_id/);
      return true;
    });
    assert.deepEqual(contents(store), before);
  });

  test("a layer that is not what the config's diff_id says: earlier images and all tags are undone", async () => {
    const work = await tempDir("berth-hostile-diffid-");
    const entry = (
      JSON.parse((await runOk("tar", ["-xOf", busyboxTar, "manifest.json"])).stdout) as {
        Config: string;
        Layers: string[];
      }[]
    )[0]!;
    const configText = (await runOk("tar", ["-xOf", busyboxTar, entry.Config])).stdout;
    const config = JSON.parse(configText) as { rootfs: { diff_ids: string[] }; created?: string };
    config.rootfs.diff_ids = [`sha256:${"0".repeat(64)}`];
    const lying = JSON.stringify(config);
    const archive = join(work, "two.tar");
    await writeTar(archive, [
      { name: entry.Config, body: configText },
      // Compressed, so only unpacking finds out (a plain layer's digest is checked up front).
      { name: "layer.tar.gz", body: gzipSync(await readLayer(busyboxTar, entry.Layers[0]!)) },
      { name: "lying.json", body: lying },
      {
        name: "manifest.json",
        body: JSON.stringify([
          { Config: entry.Config, RepoTags: ["good:1"], Layers: ["layer.tar.gz"] },
          { Config: "lying.json", RepoTags: ["bad:1"], Layers: ["layer.tar.gz"] },
        ]),
      },
    ]);
    const err = await refused(archive, DiffIdMismatchError);
    assert.match(err.message, /0{64}/);
    const goodDiffId = (JSON.parse(configText) as typeof config).rootfs.diff_ids[0]!;
    assert.ok(
      err.store.db.layer(goodDiffId),
      "the first image was loaded (its layer stays for the next attempt)",
    );
  });
});

async function readLayer(tar: string, member: string): Promise<Buffer> {
  const dir = await tempDir("berth-layer-");
  await runOk("tar", ["-xf", tar, "-C", dir, member]);
  return readFile(join(dir, member));
}
