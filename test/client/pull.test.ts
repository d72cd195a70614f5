import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fixtureLayout, fixtureManifest } from "../helpers/fixtures.js";
import { runOk, startBerthRegistry, startDistribution, waitFor } from "../helpers/processes.js";
import { berth, berthOk, tempRoot } from "./berth.js";
import { startProxy } from "./proxy.js";

interface Peer {
  host: string;
  stop(): Promise<unknown>;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function skopeoJson<T>(args: string[]): Promise<T> {
  const { stdout } = await runOk("skopeo", [...args]);
  return JSON.parse(stdout) as T;
}

/** Seeds a registry with every fixture, OCI and (app-1) Docker v2s2 media types. */
async function seed(host: string): Promise<void> {
  const layout = fixtureLayout();
  for (const tag of ["busybox-1", "app-1", "multi-1"]) {
    await runOk("skopeo", [
      "copy",
      "--all",
      "--insecure-policy",
      "--dest-tls-verify=false",
      `oci:${layout}:${tag}`,
      `docker://${host}/fx/${tag}:v1`,
    ]);
  }
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    "--dest-tls-verify=false",
    "--format",
    "v2s2",
    `oci:${layout}:app-1`,
    `docker://${host}/v2s2/app-1:v1`,
  ]);
}

interface InspectConfig {
  architecture: string;
  os: string;
  created: string;
  config: {
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    User?: string;
    Labels?: object;
  };
  rootfs: { diff_ids: string[] };
}

for (const peerName of ["distribution", "berth"] as const) {
  describe(`client against ${peerName === "distribution" ? "Debian's docker-registry" : "Berth's registry"}`, () => {
    let peer: Peer;
    let root: string;
    before(async () => {
      peer = peerName === "distribution" ? await startDistribution() : await startBerthRegistry();
      await seed(peer.host);
      root = await tempRoot();
    });
    after(async () => {
      await peer.stop();
    });

    test("pulls every fixture and reports Docker's Digest and Status lines", async () => {
      const expected = new Map(fixtureManifest().map((f) => [f.tag, f.digest]));
      for (const tag of ["busybox-1", "app-1", "multi-1"]) {
        const name = `${peer.host}/fx/${tag}:v1`;
        const r = await berthOk(root, ["pull", name]);
        assert.match(r.stdout, new RegExp(`^v1: Pulling from fx/${tag}$`, "m"));
        assert.match(r.stdout, new RegExp(`^Digest: ${expected.get(tag)}$`, "m"));
        assert.match(
          r.stdout,
          new RegExp(`^Status: (Downloaded newer image|Image is up to date) for ${name}$`, "m"),
        );
        assert.match(r.stdout, new RegExp(`^${name}$`, "m"));
      }
      const again = await berthOk(root, ["pull", `${peer.host}/fx/app-1:v1`]);
      assert.match(again.stdout, /Status: Image is up to date for/);
      const v2s2 = await berthOk(root, ["pull", `${peer.host}/v2s2/app-1:v1`]);
      assert.match(v2s2.stdout, /Digest: sha256:[0-9a-f]{64}/);
    });

    test("image inspect agrees with skopeo inspect --config", async () => {
      for (const repo of ["fx/app-1", "fx/busybox-1", "v2s2/app-1"]) {
        const name = `${peer.host}/${repo}:v1`;
        const mine = JSON.parse((await berthOk(root, ["image", "inspect", name])).stdout) as Record<
          string,
          never
        >[];
        assert.equal(mine.length, 1);
        const img = mine[0] as unknown as {
          Id: string;
          RepoTags: string[];
          Architecture: string;
          Os: string;
          Created: string;
          Config: Record<string, unknown>;
          RootFS: { Type: string; Layers: string[] };
        };
        const cfg = await skopeoJson<InspectConfig>([
          "inspect",
          "--tls-verify=false",
          "--config",
          `docker://${name}`,
        ]);
        assert.equal(img.Architecture, cfg.architecture);
        assert.equal(img.Os, cfg.os);
        assert.equal(img.Created, cfg.created);
        assert.deepEqual(img.RootFS, { Type: "layers", Layers: cfg.rootfs.diff_ids });
        assert.deepEqual(img.Config.Env ?? null, cfg.config.Env ?? null);
        assert.deepEqual(img.Config.Cmd ?? null, cfg.config.Cmd ?? null);
        assert.deepEqual(img.Config.Entrypoint ?? null, cfg.config.Entrypoint ?? null);
        assert.equal(img.Config.WorkingDir ?? "", cfg.config.WorkingDir ?? "");
        assert.equal(img.Config.User ?? "", cfg.config.User ?? "");
        assert.deepEqual(img.Config.Labels ?? null, cfg.config.Labels ?? null);
        assert.ok(img.RepoTags.includes(name));
        const raw = await runOk("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${name}`]);
        const configDigest = (JSON.parse(raw.stdout) as { config: { digest: string } }).config.digest;
        assert.equal(img.Id, configDigest);
      }
    });

    test("unpacked layers hold the files of the image, and the whiteout hides its file", async () => {
      const name = `${peer.host}/fx/app-1:v1`;
      const img = (
        JSON.parse((await berthOk(root, ["image", "inspect", name])).stdout) as {
          GraphDriver: { Data: { UpperDir: string; LowerDir: string } };
        }[]
      )[0]!;
      const dirs = [...img.GraphDriver.Data.LowerDir.split(":").reverse(), img.GraphDriver.Data.UpperDir];
      assert.equal(dirs.length, 4);
      for (const d of dirs) assert.ok(existsSync(d), d);
      assert.ok((await stat(join(dirs[0]!, "bin/busybox"))).isFile());
      const blob = join(dirs[2]!, "srv/app/data/blob.bin");
      assert.equal((await stat(blob)).size, 8 * 1024 * 1024);
      // The fixture's blob is AES-CTR of zeros with a fixed key: compare against the same bytes made here.
      const expected = createHash("sha256");
      const { execFileSync } = await import("node:child_process");
      expected.update(
        execFileSync(
          "sh",
          [
            "-c",
            `openssl enc -aes-256-ctr -nosalt -K ${"0".repeat(63)}1 -iv ${"0".repeat(32)} < /dev/zero 2>/dev/null | head -c 8388608`,
          ],
          {
            maxBuffer: 16 * 1024 * 1024,
          },
        ),
      );
      assert.equal(await sha256File(blob), expected.digest("hex"));
      assert.ok(existsSync(join(dirs[1]!, "srv/app/docs/remove-me.txt")), "the lower layer has the file");
      const top = await readdir(join(dirs[3]!, "srv/app/docs"), { withFileTypes: true });
      const marker = top.find((e) => e.name === "remove-me.txt" || e.name === ".wh.remove-me.txt");
      assert.ok(marker, "the top layer records the deletion");
      if (process.getuid?.() === 0) {
        assert.equal(marker.name, "remove-me.txt");
        assert.ok(marker.isCharacterDevice(), "as root the whiteout is an overlayfs 0/0 character device");
      }
    });

    test("push back to a new repository keeps the manifest digest", async () => {
      for (const src of ["fx/app-1", "v2s2/app-1", "fx/busybox-1"]) {
        const from = `${peer.host}/${src}:v1`;
        const to = `${peer.host}/pushed/${src.replace("/", "-")}:copy`;
        await berthOk(root, ["tag", from, to]);
        const r = await berthOk(root, ["push", to]);
        const m = /^copy: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/m.exec(r.stdout);
        assert.ok(m, r.stdout);
        const raw = await runOk("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${to}`]);
        const served = `sha256:${createHash("sha256").update(raw.stdout).digest("hex")}`;
        assert.equal(served, m[1]);
        const original = await runOk("skopeo", [
          "inspect",
          "--tls-verify=false",
          "--raw",
          `docker://${from}`,
        ]);
        assert.equal(raw.stdout, original.stdout, "pushed unchanged");
        assert.equal(Number(m[2]), Buffer.byteLength(raw.stdout));
      }
      const again = await berthOk(root, ["push", `${peer.host}/pushed/fx-app-1:copy`]);
      assert.match(again.stdout, /Layer already exists/);
    });

    test("bad input: invalid reference, unknown tag, unknown platform", async () => {
      const bad = await berth(root, ["pull", `${peer.host}/UPPER/case`]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^invalid reference format/);
      const unknown = await berth(root, ["pull", `${peer.host}/fx/app-1:nosuch`]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /manifest unknown/);
      const plat = await berth(root, ["pull", "--platform", "linux/s390x", `${peer.host}/fx/multi-1:v1`]);
      assert.equal(plat.code, 1);
      assert.match(plat.stderr, /linux\/amd64/);
      assert.match(plat.stderr, /linux\/arm64\/v8/);
    });
  });
}

describe("pull faults", () => {
  let reg: Awaited<ReturnType<typeof startBerthRegistry>>;
  before(async () => {
    reg = await startBerthRegistry({ extraArgs: ["--log-level", "debug"] });
    await seed(reg.host);
  });
  after(async () => {
    await reg.stop();
  });

  test("dedupe: pulling app-1 after busybox-1 downloads none of the shared layer", async () => {
    const root = await tempRoot();
    const proxy = await startProxy(reg.host);
    try {
      await berthOk(root, ["pull", `${proxy.host}/fx/busybox-1:v1`]);
      const busyboxManifest = JSON.parse(
        (
          await runOk("skopeo", [
            "inspect",
            "--tls-verify=false",
            "--raw",
            `docker://${reg.host}/fx/busybox-1:v1`,
          ])
        ).stdout,
      ) as { layers: { digest: string }[] };
      const shared = busyboxManifest.layers[0]!.digest;
      const before = proxy.blobBytes.get(shared) ?? 0;
      assert.ok(before > 0);
      const r = await berthOk(root, ["pull", `${proxy.host}/fx/app-1:v1`]);
      assert.match(r.stdout, new RegExp(`^${shared.slice(7, 19)}: Already exists$`, "m"));
      assert.equal(proxy.blobBytes.get(shared) ?? 0, before, "no byte of the shared layer downloaded again");
    } finally {
      await proxy.close();
    }
  });

  test("a registry serving bytes that do not match the digest is refused and nothing is stored", async () => {
    const root = await tempRoot();
    const proxy = await startProxy(reg.host, { blob: () => "corrupt" });
    try {
      const r = await berth(root, ["pull", `${proxy.host}/fx/busybox-1:v1`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /digest/i);
      const images = await berthOk(root, ["images", "-q"]);
      assert.equal(images.stdout, "");
      const blobs = await readdir(join(root, "content/blobs/sha256")).catch(() => []);
      assert.deepEqual(blobs, [], "no blob committed");
    } finally {
      await proxy.close();
    }
  });

  test("a connection cut mid-layer is a clear error and the next pull resumes with Range", async () => {
    const root = await tempRoot();
    let cut = true;
    const proxy = await startProxy(reg.host, { blob: () => (cut ? "cut" : "pass") });
    try {
      const first = await berth(root, ["pull", `${proxy.host}/fx/app-1:v1`]);
      assert.equal(first.code, 1);
      assert.ok(first.stderr.length > 0);
      cut = false;
      const second = await berthOk(root, ["pull", `${proxy.host}/fx/app-1:v1`]);
      assert.match(second.stdout, /Status: Downloaded newer image/);
      assert.ok(
        proxy.log.some((line) => / bytes=\d+-$/.test(line) && !/ bytes=0-$/.test(line)),
        `a Range request resumed a partial download:\n${proxy.log.join("\n")}`,
      );
    } finally {
      await proxy.close();
    }
  });

  test("a pull killed mid-layer finishes on the next run, downloading only the rest", async () => {
    const root = await tempRoot();
    const proxy = await startProxy(reg.host, { blob: () => "slow" });
    try {
      const manifest = JSON.parse(
        (
          await runOk("skopeo", [
            "inspect",
            "--tls-verify=false",
            "--raw",
            `docker://${reg.host}/fx/app-1:v1`,
          ])
        ).stdout,
      ) as { layers: { digest: string; size: number }[] };
      const big = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
      const run = berth(root, ["pull", `${proxy.host}/fx/app-1:v1`]);
      await waitFor("the pull to download 1 MiB of the big layer", () => {
        return (proxy.blobBytes.get(big.digest) ?? 0) >= 1024 * 1024 || run.child.exitCode !== null;
      });
      run.child.kill("SIGKILL");
      await run;
      const firstBytes = proxy.blobBytes.get(big.digest) ?? 0;
      assert.ok(firstBytes > 0 && firstBytes < big.size, `killed part-way (${firstBytes} of ${big.size})`);
      proxy.blobBytes.clear();
      await berthOk(root, ["pull", `${proxy.host}/fx/app-1:v1`]);
      const secondBytes = proxy.blobBytes.get(big.digest) ?? 0;
      assert.ok(secondBytes < big.size, `second run downloaded ${secondBytes} of ${big.size}`);
    } finally {
      await proxy.close();
    }
  });

  test("two berth processes pulling into one store at once", async () => {
    const root = await tempRoot();
    const [a, b] = await Promise.all([
      berth(root, ["pull", `${reg.host}/fx/app-1:v1`]),
      berth(root, ["pull", `${reg.host}/fx/multi-1:v1`]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const list = await berthOk(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert.deepEqual(
      list.stdout.trim().split("\n").sort(),
      [`${reg.host}/fx/app-1:v1`, `${reg.host}/fx/multi-1:v1`].sort(),
    );
    const layers = await readdir(join(root, "layers"));
    assert.equal(layers.length, 4, "app-1's four layers, the shared one unpacked once");
    const db = await readFile(join(root, "berth.db"));
    assert.ok(db.length > 0);
  });
});
