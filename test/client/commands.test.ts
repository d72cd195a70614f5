import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fixtureDir, fixtureLayout, fixtureManifest } from "../helpers/fixtures.js";
import { runOk, type Server, startBerthRegistry } from "../helpers/processes.js";
import { BERTH_BIN, berth, berthOk, tempRoot } from "./berth.js";

async function skopeoRaw(
  ref: string,
): Promise<{ mediaType: string; manifests?: { platform: { architecture: string } }[] }> {
  return JSON.parse(
    (await runOk("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`])).stdout,
  );
}

/** app-1's manifest digest as make-images.sh recorded it (it depends on the machine's files). */
const appDigest = () => fixtureManifest().find((f) => f.tag === "app-1")!.digest;

describe("image commands", () => {
  let reg: Server;
  let host: string;
  let root: string;
  before(async () => {
    reg = await startBerthRegistry();
    host = reg.host;
    for (const tag of ["busybox-1", "app-1"]) {
      await runOk("skopeo", [
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        `oci:${fixtureLayout()}:${tag}`,
        `docker://${host}/fx/${tag}:v1`,
      ]);
    }
    root = await tempRoot();
    await berthOk(root, ["pull", "-q", `${host}/fx/busybox-1:v1`]);
    await berthOk(root, ["pull", "-q", `${host}/fx/app-1:v1`]);
  });
  after(async () => {
    await reg.stop();
  });

  test("images: columns, --digests, -q, --format and filters", async () => {
    const table = (await berthOk(root, ["images"])).stdout.split("\n");
    assert.match(table[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.equal(table.filter((l) => l.startsWith(`${host}/fx/`)).length, 2);
    const digests = (await berthOk(root, ["images", "--digests"])).stdout;
    assert.match(digests.split("\n")[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    assert.ok(digests.includes(appDigest()), "the app-1 row shows its manifest digest");
    const quiet = (await berthOk(root, ["images", "-q"])).stdout.trim().split("\n");
    assert.equal(quiet.length, 2);
    for (const id of quiet) assert.match(id, /^[0-9a-f]{12}$/);
    const formatted = (await berthOk(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout;
    assert.deepEqual(formatted.trim().split("\n").sort(), [`${host}/fx/app-1:v1`, `${host}/fx/busybox-1:v1`]);
    const ref = (await berthOk(root, ["images", "--filter", `reference=*/fx/app-*`, "-q"])).stdout.trim();
    assert.equal(ref.split("\n").length, 1);
    const label = (
      await berthOk(root, [
        "images",
        "--filter",
        "label=com.example.tier=test",
        "--format",
        "{{.Repository}}",
      ])
    ).stdout.trim();
    assert.equal(label, `${host}/fx/app-1`);
    const json = (await berthOk(root, ["images", "--format", "json"])).stdout.trim().split("\n");
    assert.equal((JSON.parse(json[0]!) as { Tag: string }).Tag, "v1");
    const bad = await berth(root, ["images", "--filter", "nonsense=1"]);
    assert.equal(bad.code, 1);
  });

  test("history shows one row per history entry, <missing> below the top", async () => {
    const out = (await berthOk(root, ["history", `${host}/fx/app-1:v1`])).stdout.split("\n").filter(Boolean);
    assert.match(out[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    const config = JSON.parse(
      (await runOk("skopeo", ["inspect", "--tls-verify=false", "--config", `docker://${host}/fx/app-1:v1`]))
        .stdout,
    ) as {
      history: unknown[];
    };
    assert.equal(out.length - 1, config.history.length);
    assert.match(out[1]!, /^[0-9a-f]{12}\s/);
    assert.match(out[2]!, /^<missing>\s/);
    const quiet = (await berthOk(root, ["history", "-q", "--no-trunc", `${host}/fx/app-1:v1`])).stdout.split(
      "\n",
    );
    assert.match(quiet[0]!, /^sha256:[0-9a-f]{64}$/);
  });

  test("tag, rmi (untag vs delete) and prune, as Docker decides", async () => {
    const r = await tempRoot();
    await berthOk(r, ["pull", "-q", `${host}/fx/busybox-1:v1`]);
    await berthOk(r, ["pull", "-q", `${host}/fx/app-1:v1`]);
    await berthOk(r, ["tag", `${host}/fx/app-1:v1`, "example.com/other/app:1"]);
    const conflict = await berth(r, [
      "rmi",
      (await berthOk(r, ["images", "-q", `${host}/fx/app-1`])).stdout.trim(),
    ]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /referenced in multiple repositories/);
    const untag = await berthOk(r, ["rmi", "example.com/other/app:1"]);
    assert.equal(untag.stdout, "Untagged: example.com/other/app:1\n");
    const layersBefore = (await readdir(join(r, "layers"))).length;
    const del = await berthOk(r, ["rmi", `${host}/fx/app-1:v1`]);
    assert.match(del.stdout, new RegExp(`^Untagged: ${host}/fx/app-1:v1$`, "m"));
    assert.match(del.stdout, /^Untagged: .*@sha256:/m);
    const appConfig = (await skopeoRaw(`${host}/fx/app-1:v1`)) as unknown as { config: { digest: string } };
    assert.match(del.stdout, new RegExp(`^Deleted: ${appConfig.config.digest}$`, "m"));
    const deletedLayers = del.stdout.split("\n").filter((l) => l.startsWith("Deleted:")).length - 1;
    assert.equal(deletedLayers, 3, "app-1's own three layers go; the shared busybox layer stays");
    assert.equal((await readdir(join(r, "layers"))).length, layersBefore - 3);
    const missing = await berth(r, ["rmi", "nosuch:tag"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuch:tag/);
    const prune = await berthOk(r, ["image", "prune", "-a", "-f"]);
    assert.match(prune.stdout, /^Deleted Images:$/m);
    assert.match(prune.stdout, /Total reclaimed space: \d/);
    assert.equal((await berthOk(r, ["images", "-q"])).stdout, "");
    assert.deepEqual(await readdir(join(r, "layers")), []);
  });

  test("manifest create, annotate, push and inspect a multi-platform list", async () => {
    const r = await tempRoot();
    const list = `${host}/fx/list:v1`;
    const created = await berthOk(r, [
      "manifest",
      "create",
      list,
      `${host}/fx/busybox-1:v1`,
      `${host}/fx/app-1:v1`,
    ]);
    assert.equal(created.stdout, `Created manifest list ${list}\n`);
    await berthOk(r, [
      "manifest",
      "annotate",
      list,
      `${host}/fx/app-1:v1`,
      "--arch",
      "arm64",
      "--variant",
      "v8",
    ]);
    const pushed = await berthOk(r, ["manifest", "push", list]);
    assert.match(pushed.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const raw = await skopeoRaw(list);
    assert.equal(raw.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(raw.manifests!.map((m) => m.platform.architecture).sort(), ["amd64", "arm64"]);
    const inspected = JSON.parse((await berthOk(r, ["manifest", "inspect", list])).stdout) as {
      manifests: unknown[];
    };
    assert.equal(inspected.manifests.length, 2);
    const arm = await berthOk(r, ["pull", "-q", "--platform", "linux/arm64/v8", list]);
    assert.equal(arm.stdout, `${list}\n`);
  });

  test("copy between repositories, tags and search", async () => {
    const r = await tempRoot();
    const copied = await berthOk(r, ["copy", `${host}/fx/app-1:v1`, `${host}/copied/app:c1`]);
    assert.ok(copied.stdout.startsWith(`c1: digest: ${appDigest()} size: `), copied.stdout);
    assert.ok(
      !existsSync(join(r, "berth.db")) || (await berthOk(r, ["images", "-q"])).stdout === "",
      "the local store is untouched",
    );
    assert.equal((await berthOk(r, ["tags", `${host}/copied/app`])).stdout, "c1\n");
    const search = await berthOk(r, ["search", `${host}/copied`]);
    assert.match(search.stdout.split("\n")[0]!, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL$/);
    assert.match(search.stdout, /^copied\/app\s/m);
    const limited = await berth(r, ["search", "--limit", "101", `${host}/x`]);
    assert.equal(limited.code, 1);
    assert.match(limited.stderr, /outside the range/);
  });

  test("push mounts a blob known in another repository of the same registry", async () => {
    const r = await tempRoot();
    await berthOk(r, ["pull", "-q", `${host}/fx/busybox-1:v1`]);
    await berthOk(r, ["tag", `${host}/fx/busybox-1:v1`, `${host}/mounted/bb:1`]);
    const out = await berthOk(r, ["push", `${host}/mounted/bb:1`]);
    assert.match(out.stdout, /Mounted from fx\/busybox-1/);
  });

  test("push compresses layers held only as plain tars: gzip by default, zstd on request", async () => {
    const r = await tempRoot();
    await berthOk(r, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    const diffIds = (
      JSON.parse((await berthOk(r, ["image", "inspect", "busybox:1"])).stdout) as {
        RootFS: { Layers: string[] };
      }[]
    )[0]!.RootFS.Layers;
    for (const [tag, flags, mediaType] of [
      ["gz", [], "application/vnd.oci.image.layer.v1.tar+gzip"],
      ["zst", ["--compression", "zstd"], "application/vnd.oci.image.layer.v1.tar+zstd"],
    ] as const) {
      const target = `${host}/compressed/bb:${tag}`;
      await berthOk(r, ["tag", "busybox:1", target]);
      const quiet = await berthOk(r, ["push", "-q", ...flags, target]);
      assert.equal(quiet.stdout, `${target}\n`, "push -q prints only the reference, as docker push -q");
      const raw = (await skopeoRaw(target)) as unknown as { layers: { mediaType: string }[] };
      assert.deepEqual(
        raw.layers.map((l) => l.mediaType),
        [mediaType],
      );
      const cfg = JSON.parse(
        (await runOk("skopeo", ["inspect", "--tls-verify=false", "--config", `docker://${target}`])).stdout,
      ) as {
        rootfs: { diff_ids: string[] };
      };
      assert.deepEqual(cfg.rootfs.diff_ids, diffIds, "the diff_ids still describe the layers");
      const back = await tempRoot();
      await berthOk(back, ["pull", "-q", target]);
      assert.ok(existsSync(join(back, "layers")));
    }
    const bad = await berth(r, ["push", "--compression", "lz4", `${host}/compressed/bb:gz`]);
    // A bad flag value is a usage error: the docker CLI exits 125 for those.
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid argument "lz4" for "--compression" flag/);
  });

  test("on a terminal, pull redraws one progress line per layer", async () => {
    const r = await tempRoot();
    // script(1) gives berth a pseudo-terminal, as a user's shell would.
    const cmd = `${process.execPath} ${BERTH_BIN} --root ${r} pull ${host}/fx/app-1:v1`;
    const out = (await runOk("script", ["-qec", cmd, "/dev/null"])).stdout;
    assert.match(out, /\x1b\[\d+A/, "cursor moves up to redraw the layer lines");
    assert.match(out, /Downloading\s+\[=*>?\s*\]/, "a progress bar while downloading");
    assert.equal((out.match(/: Pull complete/g) ?? []).length >= 4, true);
    assert.match(out, /Status: Downloaded newer image/);
  });
});
