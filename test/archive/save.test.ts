import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { loadArchive } from "../../src/archive/load.js";
import { saveImages, saveImagesToFile } from "../../src/archive/save.js";
import type { LocalStore } from "../../src/images/local-store.js";
import { digestOf } from "../../src/oci/digest.js";
import { familiarString, parseReference } from "../../src/oci/reference.js";
import { run, runOk, tempDir } from "../helpers/processes.js";
import { contents, imageFixtures, newStore, rawConfig, rawManifest, skopeoJson } from "./helpers.js";

let layout: string;
let busyboxTar: string;
let appRaw: string;
let app: Awaited<ReturnType<typeof rawManifest>>;
let appDiffIds: string[];
let busybox: Awaited<ReturnType<typeof rawManifest>>;
let busyboxDiffIds: string[];

before(async () => {
  const fx = await imageFixtures();
  layout = join(fx, "oci");
  busyboxTar = join(fx, "busybox.tar");
  appRaw = (await runOk("skopeo", ["inspect", "--raw", `oci:${layout}:app-1`])).stdout;
  app = JSON.parse(appRaw);
  appDiffIds = (await rawConfig(`oci:${layout}:app-1`)).rootfs.diff_ids;
  busybox = await rawManifest(`docker-archive:${busyboxTar}`);
  busyboxDiffIds = (await rawConfig(`docker-archive:${busyboxTar}`)).rootfs.diff_ids;
});

/** A store with busybox:1 (from the docker-archive) and app-1 tagged example.com/team/app:2 (from the layout). */
async function storeWithImages(): Promise<LocalStore> {
  const store = await newStore();
  await loadArchive(store, busyboxTar);
  await loadArchive(store, layout);
  store.db.write(() =>
    store.db.setTag("example.com/team/app", "2", app.config.digest, digestOf(appRaw).toString()),
  );
  return store;
}

async function member(tar: string, name: string): Promise<string> {
  return (await runOk("tar", ["-xOf", tar, name])).stdout;
}

interface ManifestJson {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

interface Index {
  mediaType: string;
  manifests: { digest: string; size: number; annotations?: Record<string, string> }[];
}

describe("save", () => {
  test("a docker-archive and an OCI layout in one tar, as Docker 25+ writes them", async () => {
    const store = await storeWithImages();
    const out = join(await tempDir("berth-save-"), "images.tar");
    await saveImagesToFile(
      store,
      [
        { imageId: busybox.config.digest, names: [parseReference("busybox:1")] },
        { imageId: app.config.digest, names: [parseReference("example.com/team/app:2")] },
      ],
      out,
    );
    assert.deepEqual(await readdir(join(out, "..")), ["images.tar"], "no temporary file is left");

    const listing = (await runOk("tar", ["-tf", out])).stdout.split("\n").filter(Boolean);
    assert.deepEqual(listing.slice(0, 2), ["blobs/", "blobs/sha256/"]);
    assert.deepEqual(listing.slice(-4), ["index.json", "manifest.json", "oci-layout", "repositories"]);
    assert.equal(new Set(listing).size, listing.length, "each blob once (busybox's layer is shared)");

    const manifestJson = JSON.parse(await member(out, "manifest.json")) as ManifestJson[];
    assert.deepEqual(manifestJson, [
      {
        Config: `blobs/sha256/${busybox.config.digest.slice(7)}`,
        RepoTags: ["busybox:1"],
        Layers: busybox.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      },
      {
        Config: `blobs/sha256/${app.config.digest.slice(7)}`,
        RepoTags: ["example.com/team/app:2"],
        Layers: app.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      },
    ]);
    for (const path of manifestJson.flatMap((m) => [m.Config, ...m.Layers]))
      assert.ok(listing.includes(path), path);

    assert.deepEqual(JSON.parse(await member(out, "oci-layout")), { imageLayoutVersion: "1.0.0" });
    assert.deepEqual(JSON.parse(await member(out, "repositories")), {
      busybox: { "1": busyboxDiffIds.at(-1)!.slice(7) },
      "example.com/team/app": { "2": appDiffIds.at(-1)!.slice(7) },
    });
    const index = JSON.parse(await member(out, "index.json")) as Index;
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      index.manifests.map((m) => m.annotations),
      [
        {
          "io.containerd.image.name": "docker.io/library/busybox:1",
          "org.opencontainers.image.ref.name": "1",
        },
        { "io.containerd.image.name": "example.com/team/app:2", "org.opencontainers.image.ref.name": "2" },
      ],
    );
    const appEntry = index.manifests[1]!;
    assert.equal(appEntry.digest, digestOf(appRaw).toString());
    assert.equal(
      await member(out, `blobs/sha256/${appEntry.digest.slice(7)}`),
      appRaw,
      "the pulled manifest, byte for byte",
    );

    // skopeo reads both sides and agrees with the sources.
    const viaDocker = await skopeoJson<{ Layers: string[] }>([
      "inspect",
      `docker-archive:${out}:example.com/team/app:2`,
    ]);
    assert.deepEqual(viaDocker.Layers, appDiffIds, "docker-archive: skopeo reports the layers uncompressed");
    assert.equal(
      (await rawManifest(`docker-archive:${out}:example.com/team/app:2`)).config.digest,
      app.config.digest,
    );
    assert.equal((await rawManifest(`docker-archive:${out}:busybox:1`)).config.digest, busybox.config.digest);
    assert.equal((await runOk("skopeo", ["inspect", "--raw", `oci-archive:${out}:2`])).stdout, appRaw);
    const viaOci = await skopeoJson<{ Layers: string[] }>(["inspect", `oci-archive:${out}:2`]);
    assert.deepEqual(
      viaOci.Layers,
      app.layers.map((l) => l.digest),
    );

    const copies = await tempDir("berth-save-copies-");
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      `docker-archive:${out}:busybox:1`,
      `oci:${copies}:bb`,
    ]);
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      `docker-archive:${out}:example.com/team/app:2`,
      `oci:${copies}:app-docker`,
    ]);
    await runOk("skopeo", ["copy", "--insecure-policy", `oci-archive:${out}:2`, `oci:${copies}:app-oci`]);
    assert.deepEqual((await rawConfig(`oci:${copies}:bb`)).rootfs.diff_ids, busyboxDiffIds);
    assert.deepEqual((await rawConfig(`oci:${copies}:app-docker`)).rootfs.diff_ids, appDiffIds);
    assert.deepEqual((await rawConfig(`oci:${copies}:app-oci`)).rootfs.diff_ids, appDiffIds);

    // And back: the names come from manifest.json, the app keeps its manifest (from index.json).
    const again = await newStore();
    const loaded = await loadArchive(again, out);
    assert.deepEqual(
      loaded.map((l) => [l.imageId, l.manifest, l.names.map(familiarString)]),
      [
        [busybox.config.digest, loaded[0]!.manifest, ["busybox:1"]],
        [app.config.digest, digestOf(appRaw).toString(), ["example.com/team/app:2"]],
      ],
    );
    assert.equal(again.db.tagManifest("example.com/team/app", "2"), digestOf(appRaw).toString());
  });

  test("an image saved by ID is untagged on both sides; the stream and the file are the same bytes", async () => {
    const store = await storeWithImages();
    const dir = await tempDir("berth-save-id-");
    const file = join(dir, "file.tar");
    const streamed = join(dir, "stream.tar");
    const items = [{ imageId: app.config.digest, names: [] }];
    await saveImagesToFile(store, items, file);
    await saveImages(store, items, createWriteStream(streamed));
    assert.deepEqual(await readFile(streamed), await readFile(file));

    assert.deepEqual(JSON.parse(await member(file, "manifest.json"))[0].RepoTags, null);
    const index = JSON.parse(await member(file, "index.json")) as Index;
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.annotations, undefined);
    assert.equal((await run("tar", ["-xOf", file, "repositories"])).code, 2, "no repositories without names");

    const copies = await tempDir("berth-save-id-copies-");
    await runOk("skopeo", ["copy", "--insecure-policy", `docker-archive:${file}`, `oci:${copies}:d`]);
    await runOk("skopeo", ["copy", "--insecure-policy", `oci-archive:${file}`, `oci:${copies}:o`]);
    assert.deepEqual((await rawConfig(`oci:${copies}:d`)).rootfs.diff_ids, appDiffIds);
    assert.equal((await runOk("skopeo", ["inspect", "--raw", `oci:${copies}:o`])).stdout, appRaw);

    const again = await newStore();
    assert.deepEqual(await loadArchive(again, file), [
      { imageId: app.config.digest, manifest: digestOf(appRaw).toString(), names: [] },
    ]);
  });

  test("a failed save leaves neither the file nor a temporary one", async () => {
    const store = await storeWithImages();
    const dir = await tempDir("berth-save-fail-");
    const out = join(dir, "out.tar");
    await assert.rejects(saveImagesToFile(store, [{ imageId: `sha256:${"a".repeat(64)}`, names: [] }], out));
    assert.deepEqual(await readdir(dir), []);
    assert.equal(await stat(out).catch(() => undefined), undefined);
    assert.deepEqual(contents(store).tags.sort(), ["docker.io/library/busybox:1", "example.com/team/app:2"]);
  });
});
