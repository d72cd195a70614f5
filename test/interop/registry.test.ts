import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fixtureLayout, fixtureManifest } from "../helpers/fixtures.js";
import { run, runOk, type Server, skopeo, startBerthRegistry, tempDir } from "../helpers/processes.js";

function sha256(data: string | Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

interface Descriptor {
  digest: string;
  mediaType: string;
}

/** Every blob digest an image (or index) in an OCI layout references, manifests included. */
async function referencedBlobs(layout: string, digest: string): Promise<string[]> {
  const raw = await readFile(join(layout, "blobs/sha256", digest.slice(7)));
  const doc = JSON.parse(raw.toString()) as {
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
  };
  const out = [digest];
  if (doc.manifests) for (const m of doc.manifests) out.push(...(await referencedBlobs(layout, m.digest)));
  if (doc.config) out.push(doc.config.digest);
  for (const l of doc.layers ?? []) out.push(l.digest);
  return out;
}

describe("interop: real clients against Berth's registry", () => {
  let reg: Server;
  let host: string;
  const layout = () => fixtureLayout();
  before(async () => {
    reg = await startBerthRegistry();
    host = reg.host;
  });
  after(async () => {
    await reg.stop();
  });

  for (const fixture of ["busybox-1", "app-1", "multi-1"]) {
    test(`skopeo copy ${fixture} in and back out is byte-identical`, async () => {
      const expected = fixtureManifest().find((f) => f.tag === fixture)!;
      for (const repo of [`fixtures/${fixture}`, `deep/a/b/c/${fixture}`]) {
        await skopeo(["copy", "--all", `oci:${layout()}:${fixture}`, `docker://${host}/${repo}:v1`]);
        const raw = await skopeo(["inspect", "--raw", `docker://${host}/${repo}:v1`]);
        assert.equal(sha256(raw.stdout), expected.digest, "the manifest is served unchanged");
        const out = await tempDir("berth-out-");
        await skopeo(["copy", "--all", `docker://${host}/${repo}:v1`, `oci:${out}:${fixture}`]);
        for (const blob of await referencedBlobs(layout(), expected.digest)) {
          const a = await readFile(join(layout(), "blobs/sha256", blob.slice(7)));
          const b = await readFile(join(out, "blobs/sha256", blob.slice(7)));
          assert.ok(a.equals(b), `blob ${blob} identical`);
        }
      }
    });
  }

  test("skopeo copy --format v2s2 round-trips Docker media types unchanged", async () => {
    await skopeo(["copy", "--format", "v2s2", `oci:${layout()}:app-1`, `docker://${host}/v2s2/app:v1`]);
    const raw = await skopeo(["inspect", "--raw", `docker://${host}/v2s2/app:v1`]);
    const manifest = JSON.parse(raw.stdout) as {
      mediaType: string;
      config: Descriptor;
      layers: Descriptor[];
    };
    assert.equal(manifest.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    assert.equal(manifest.config.mediaType, "application/vnd.docker.container.image.v1+json");
    // Copy Berth -> Berth (another repository): skopeo sends exactly what it read.
    await skopeo(["copy", `docker://${host}/v2s2/app:v1`, `docker://${host}/v2s2/again:v1`]);
    const again = await skopeo(["inspect", "--raw", `docker://${host}/v2s2/again:v1`]);
    assert.equal(again.stdout, raw.stdout);
    const out = await tempDir("berth-out-");
    await skopeo(["copy", `docker://${host}/v2s2/app:v1`, `dir:${out}`]);
    const written = await readFile(join(out, "manifest.json"), "utf8");
    assert.equal(sha256(written), sha256(raw.stdout));
  });

  test("skopeo inspect, inspect --config, list-tags and delete", async () => {
    await skopeo(["copy", `oci:${layout()}:app-1`, `docker://${host}/tagged/app:one`]);
    await skopeo(["copy", `oci:${layout()}:app-1`, `docker://${host}/tagged/app:two`]);
    await skopeo(["copy", `oci:${layout()}:busybox-1`, `docker://${host}/tagged/app:three`]);
    const info = JSON.parse((await skopeo(["inspect", `docker://${host}/tagged/app:one`])).stdout) as {
      Digest: string;
      Layers: string[];
      Architecture: string;
      Os: string;
      RepoTags: string[];
    };
    assert.equal(info.Digest, fixtureManifest().find((f) => f.tag === "app-1")!.digest);
    assert.equal(info.Layers.length, 4);
    assert.equal(info.Architecture, "amd64");
    assert.equal(info.Os, "linux");
    assert.deepEqual([...info.RepoTags].sort(), ["one", "three", "two"]);
    const config = JSON.parse(
      (await skopeo(["inspect", "--config", `docker://${host}/tagged/app:one`])).stdout,
    ) as {
      config: { Env: string[] };
      rootfs: { diff_ids: string[] };
    };
    assert.ok(config.config.Env.includes("APP_HOME=/srv/app"));
    assert.equal(config.rootfs.diff_ids.length, 4);
    const tags = JSON.parse((await skopeo(["list-tags", `docker://${host}/tagged/app`])).stdout) as {
      Tags: string[];
    };
    assert.deepEqual(tags.Tags, ["one", "three", "two"]);

    await skopeo(["delete", `docker://${host}/tagged/app@${info.Digest}`]);
    const gone = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--raw",
      `docker://${host}/tagged/app@${info.Digest}`,
    ]);
    assert.notEqual(gone.code, 0);
    const after = JSON.parse((await skopeo(["list-tags", `docker://${host}/tagged/app`])).stdout) as {
      Tags: string[];
    };
    assert.deepEqual(after.Tags, ["three"], "deleting by digest removed both tags of that manifest");
  });

  test("buildah push of a locally built image", async () => {
    const work = await tempDir("berth-buildah-");
    const store = ["--root", join(work, "root"), "--runroot", join(work, "run"), "--storage-driver", "vfs"];
    const env = { BUILDAH_ISOLATION: "chroot" };
    const ctr = (await runOk("buildah", [...store, "from", "scratch"], { env })).stdout.trim();
    await mkdir(join(work, "ctx"));
    await writeFile(join(work, "ctx/hello.txt"), "hello from buildah\n");
    await runOk("buildah", [...store, "add", ctr, join(work, "ctx/hello.txt"), "/hello.txt"], { env });
    await runOk("buildah", [...store, "config", "--cmd", "/hello", "--label", "built.by=test", ctr], { env });
    await runOk("buildah", [...store, "commit", "-q", ctr, "built-img"], { env });
    await runOk(
      "buildah",
      [...store, "push", "--tls-verify=false", "built-img", `docker://${host}/built/img:1`],
      { env },
    );
    const config = JSON.parse(
      (await skopeo(["inspect", "--config", `docker://${host}/built/img:1`])).stdout,
    ) as {
      config: { Labels: Record<string, string>; Cmd: string[] };
    };
    assert.equal(config.config.Labels["built.by"], "test");
    assert.deepEqual(config.config.Cmd, ["/hello"]);
  });

  test("docker manifest inspect --insecure reads an index and a manifest", async (t) => {
    const docker = await run("sh", ["-c", "command -v docker"]);
    if (docker.code !== 0) {
      t.skip("docker CLI not installed (.ci/run installs docker.io)");
      return;
    }
    await skopeo(["copy", "--all", `oci:${layout()}:multi-1`, `docker://${host}/docker/multi:v1`]);
    await skopeo([
      "copy",
      "--format",
      "v2s2",
      `oci:${layout()}:busybox-1`,
      `docker://${host}/docker/single:v1`,
    ]);
    const env = { DOCKER_CONFIG: await tempDir("berth-docker-config-") };
    const index = JSON.parse(
      (await runOk("docker", ["manifest", "inspect", "--insecure", `${host}/docker/multi:v1`], { env }))
        .stdout,
    ) as { manifests: { platform: { os: string; architecture: string; variant?: string } }[] };
    const platforms = index.manifests.map((m) =>
      [m.platform.os, m.platform.architecture, m.platform.variant ?? ""].join("/"),
    );
    assert.deepEqual(platforms.sort(), ["linux/amd64/", "linux/arm64/v8"]);
    const single = JSON.parse(
      (await runOk("docker", ["manifest", "inspect", "--insecure", `${host}/docker/single:v1`], { env }))
        .stdout,
    ) as { mediaType: string; layers: unknown[] };
    assert.equal(single.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    assert.equal(single.layers.length, 1);
    assert.ok(existsSync(env.DOCKER_CONFIG));
  });
});
