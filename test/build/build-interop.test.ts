import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import { run, runOk, type Server, skopeo, startDistribution, tempDir } from "../helpers/processes.js";
import { type BuildHarness, SLOW_STEP, STEP, startBuildHarness } from "./harness.js";
import { listImage, listTree, treeDifferences } from "./tree-listing.js";

/**
 * What `berth build` makes, read by the peers: pushed to Debian's docker-registry and read by
 * skopeo, the same Dockerfile built by buildah, and the same image digest from two stores.
 */
describe("berth build beside the peers", () => {
  let h: BuildHarness;
  let reg: Server;
  let root: string;
  let ctxDir: string;
  let scratch: string;
  let imageId: string;
  const buildArgs = () => h.buildArgs();

  before(async () => {
    h = await startBuildHarness();
    ({ reg, root, ctxDir, scratch, imageId } = h);
  }, SLOW_STEP);
  after(async () => {
    await h?.close();
  });

  it("pushes to Debian's docker-registry, and skopeo reads the image", STEP, async () => {
    const dist = await startDistribution();
    try {
      const name = `${dist.host}/built/final:1`;
      await berthOk(root, ["tag", "final:1", name]);
      await berthOk(root, ["push", "-q", name]);
      const raw = JSON.parse((await skopeo(["inspect", "--raw", `docker://${name}`])).stdout) as {
        config: { digest: string };
        layers: unknown[];
      };
      assert.equal(raw.config.digest, imageId);
      const rawConfig = (await skopeo(["inspect", "--config", "--raw", `docker://${name}`])).stdout;
      assert.equal(`sha256:${createHash("sha256").update(rawConfig).digest("hex")}`, imageId);
      const config = JSON.parse(rawConfig) as {
        config: { OnBuild: string[]; Healthcheck: unknown };
        rootfs: { diff_ids: string[] };
        history: { empty_layer?: boolean }[];
      };
      assert.deepEqual(config.config.OnBuild, ["RUN echo child > /tmp/onbuild.txt"]);
      assert.equal(config.rootfs.diff_ids.length, raw.layers.length);
      assert.equal(config.history.filter((h) => !h.empty_layer).length, raw.layers.length);
      const layout = join(scratch, "pushed-layout");
      await skopeo(["copy", `docker://${name}`, `oci:${layout}:final`]);
      assert.ok(
        readdirSync(join(layout, "blobs/sha256")).length >= raw.layers.length + 2,
        "skopeo fetched and verified every blob",
      );
    } finally {
      await dist.stop();
    }
  });

  it(
    "buildah bud of the same Dockerfile gives the same file tree (owners, modes, contents)",
    SLOW_STEP,
    async () => {
      const bhRoot = await tempDir("berth-buildah-");
      const bh = (args: string[]) =>
        runOk(
          "buildah",
          [
            "--root",
            join(bhRoot, "storage"),
            "--runroot",
            join(bhRoot, "run"),
            "--storage-driver",
            "vfs",
            ...args,
          ],
          {
            env: { BUILDAH_ISOLATION: "chroot" },
          },
        );
      try {
        // Without --layers: the final tree is what is compared, and a commit per step on vfs (a
        // full copy of the tree each time) more than doubled the test's time.
        await bh(["bud", "-q", "--tls-verify=false", ...buildArgs(), "-t", "localhost/final:1", ctxDir]);
        const ctr = (await bh(["from", "localhost/final:1"])).stdout.trim();
        const mount = (await bh(["mount", ctr])).stdout.trim();
        try {
          const theirs = await listTree(mount);
          const ours = await listImage(root, "final:1", scratch);
          assert.deepEqual(treeDifferences(ours, theirs, ["berth", "buildah"]), []);
          assert.ok(ours.size > 400, `compared ${ours.size} entries`);
        } finally {
          await bh(["umount", ctr]);
        }
      } finally {
        await run("buildah", [
          "--root",
          join(bhRoot, "storage"),
          "--runroot",
          join(bhRoot, "run"),
          "--storage-driver",
          "vfs",
          "rm",
          "--all",
        ]);
      }
    },
  );

  it("is reproducible: with SOURCE_DATE_EPOCH two stores build the same image digest", STEP, async () => {
    const dir = join(scratch, "ctx-repro");
    mkdirSync(join(dir, "files"), { recursive: true });
    writeFileSync(join(dir, "files/a.txt"), "a\n");
    writeFileSync(
      join(dir, "Dockerfile"),
      `FROM ${reg.host}/fx/busybox-1:v1\nCOPY files /files\nWORKDIR /made/here\nRUN echo built > out.txt && mkdir -p /var/x && rm /bin/vi\nENV X=1\n`,
    );
    const results: { id: string; manifest: string; created: string }[] = [];
    for (const n of [1, 2]) {
      const store = await tempRoot();
      const out = join(scratch, `repro-${n}.tar`);
      // Different file times on each side: the epoch must make them equal.
      execFileSync("touch", ["-d", `@${1_800_000_000 + n}`, join(dir, "files/a.txt")]);
      const r = await berth(
        store,
        [
          "build",
          "-q",
          "--iidfile",
          join(scratch, `repro-${n}.iid`),
          "--output",
          `type=oci,dest=${out}`,
          dir,
        ],
        {
          env: { SOURCE_DATE_EPOCH: "1700000000" },
        },
      );
      assert.equal(r.code, 0, r.stderr);
      const index = JSON.parse(execFileSync("tar", ["-xOf", out, "index.json"]).toString()) as {
        manifests: { digest: string }[];
      };
      const id = readFileSync(join(scratch, `repro-${n}.iid`), "utf8");
      const config = JSON.parse(
        execFileSync("tar", ["-xOf", out, `blobs/sha256/${id.slice(7)}`]).toString(),
      ) as {
        created: string;
        history: { created: string }[];
      };
      results.push({ id, manifest: index.manifests[0]!.digest, created: config.created });
      assert.equal(
        (await berthOk(store, ["images", "-q"])).stdout.includes(id.slice(7, 19)),
        false,
        "--output stores no image",
      );
    }
    assert.equal(results[0]!.id, results[1]!.id);
    assert.equal(results[0]!.manifest, results[1]!.manifest);
    assert.equal(results[0]!.created, "2023-11-14T22:13:20Z");
  });
});
