/**
 * Client benchmark, in one run against one docker-registry (CNCF distribution) holding big-1:
 *   - pull with unpack: `berth pull` vs `podman pull` (overlay storage) and vs `pigz -d | tar -x`
 *     of the same layers; pull of blobs: `skopeo copy docker://… oci:…` (Berth has no
 *     blobs-only pull, so its with-unpack time is compared against it too)
 *   - push into an empty registry: `berth push` vs `skopeo copy oci:… docker://…`
 *   - `berth images` vs `podman images` with 100 images
 *   - peak RSS of berth (GNU time's %M) for a small and a large image
 *
 *   node dist/scripts/fixtures.js --big && npm run build && node dist/bench/client.js [--runs N] [--baseline OTHER/bin/berth.js]
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, startDistribution, tempDir } from "../test/helpers/processes.js";
import { median, settle, timed } from "./measure.js";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "3" }, baseline: { type: "string" } },
});
const RUNS = Number(args.runs);
/** Another build's bin/berth.js, measured in the same rounds (e.g. the commit before a change). */
const baseline = args.baseline;

// Some machines (this project's CI kind among them) set NODE_EXTRA_CA_CERTS, which makes every Node
// process parse a CA bundle at start (30-50 ms here): a property of the machine, not of Berth, and
// the benchmark talks plain HTTP on loopback. Children inherit the environment without it.
const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
const berthBin = join(repoRoot(), "bin/berth.js");

async function repeat(n: number, fn: () => Promise<number>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return median(out);
}

let settled = "";

/** Medians of `n` rounds in which each measure runs once, in turn. */
async function rounds(
  n: number,
  measures: Record<string, () => Promise<number>>,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (let i = 0; i < n; i++) {
    for (const [name, fn] of Object.entries(measures)) {
      settled = await settle();
      const t = await fn();
      times[name] = [...(times[name] ?? []), t];
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** 100 small distinct images (one shared layer, different configs) as tags of one repository. */
async function seedMany(host: string): Promise<void> {
  const { createRegistryClient } = await import("../src/remote/transport/client.js");
  const { RemoteRepository } = await import("../src/remote/repository.js");
  const { Readable } = await import("node:stream");
  const repo = new RemoteRepository(createRegistryClient({ host }), "bench/many");
  const { createHash } = await import("node:crypto");
  const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  const put = (b: Buffer) => repo.putBlob(sha(b), b.length, async () => Readable.from([b]));
  const { pack } = await import("tar-stream");
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

async function main(): Promise<void> {
  const layout = join(repoRoot(), ".fixtures/images-big/oci");
  await readFile(join(layout, "index.json")).catch(() => {
    throw new Error("no big fixture: run `node dist/scripts/fixtures.js --big` first");
  });
  const src = await startDistribution();
  const ref = `${src.host}/bench/big:1`;
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    "--dest-tls-verify=false",
    `oci:${layout}:big-1`,
    `docker://${ref}`,
  ]);
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    "--dest-tls-verify=false",
    `oci:${join(repoRoot(), ".fixtures/images/oci")}:app-1`,
    `docker://${src.host}/bench/app:1`,
  ]);
  const work = await tempDir("berth-bench-");
  const rows: [string, string, number, string, number, string][] = [];
  let i = 0;
  const fresh = async (name: string) => {
    const dir = join(work, `${name}-${i++}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };

  // Every round runs each peer once, in turn, so that a machine busy for a while slows them alike.
  const pullers: Record<string, () => Promise<number>> = {
    berth: async () => {
      const root = await fresh("berth");
      const t = await timed(process.execPath, [berthBin, "--root", root, "pull", "-q", ref]);
      berthRss = Math.max(berthRss, t.rssMB);
      await rm(root, { recursive: true, force: true });
      return t.seconds;
    },
    podman: async () => {
      const root = await fresh("podman");
      const store = [
        "--root",
        join(root, "root"),
        "--runroot",
        join(root, "run"),
        "--storage-driver",
        "overlay",
      ];
      const t = await timed("podman", [...store, "pull", "-q", "--tls-verify=false", ref]);
      await run("podman", [...store, "system", "reset", "-f"]);
      await rm(root, { recursive: true, force: true });
      return t.seconds;
    },
    skopeo: async () => {
      const dir = await fresh("skopeo");
      const t = await timed("skopeo", [
        "copy",
        "--insecure-policy",
        "--src-tls-verify=false",
        `docker://${ref}`,
        `oci:${dir}:big`,
      ]);
      await rm(dir, { recursive: true, force: true });
      return t.seconds;
    },
  };
  if (baseline) {
    pullers.baseline = async () => {
      const root = await fresh("baseline");
      const t = await timed(process.execPath, [baseline, "--root", root, "pull", "-q", ref]);
      await rm(root, { recursive: true, force: true });
      return t.seconds;
    };
  }
  let berthRss = 0;
  // pigz -d | tar -x of the same layers, one after another, from skopeo's copy of the blobs.
  const blobs = await fresh("blobs");
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    "--src-tls-verify=false",
    `docker://${ref}`,
    `oci:${blobs}:big`,
  ]);
  const indexJson = JSON.parse(await readFile(join(blobs, "index.json"), "utf8")) as {
    manifests: { digest: string }[];
  };
  const manifest = JSON.parse(
    await readFile(join(blobs, "blobs/sha256", indexJson.manifests[0]!.digest.slice(7)), "utf8"),
  ) as { layers: { digest: string }[] };
  pullers.pigz = async () => {
    const dir = await fresh("pigz");
    const files = manifest.layers.map((l) => join(blobs, "blobs/sha256", l.digest.slice(7))).join(" ");
    const t = await timed("sh", ["-c", `for f in ${files}; do pigz -dc "$f" | tar -x -C ${dir}; done`]);
    await rm(dir, { recursive: true, force: true });
    return t.seconds;
  };
  const pulls = await rounds(RUNS, pullers);
  const smallRss = (
    await timed(process.execPath, [
      berthBin,
      "--root",
      await fresh("small"),
      "pull",
      "-q",
      `${src.host}/bench/app:1`,
    ])
  ).rssMB;

  // Push into empty registries: a new docker-registry for each push.
  const pushRoot = await fresh("push");
  await runOk(process.execPath, [berthBin, "--root", pushRoot, "pull", "-q", ref]);
  const pushWith = (bin: string) => async () => {
    const dst = await startDistribution();
    await runOk(process.execPath, [bin, "--root", pushRoot, "tag", ref, `${dst.host}/pushed/big:1`]);
    const t = await timed(process.execPath, [
      bin,
      "--root",
      pushRoot,
      "push",
      "-q",
      `${dst.host}/pushed/big:1`,
    ]);
    await dst.stop();
    return t.seconds;
  };
  const pushers: Record<string, () => Promise<number>> = {
    berth: pushWith(berthBin),
    skopeo: async () => {
      const dst = await startDistribution();
      const t = await timed("skopeo", [
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        `oci:${blobs}:big`,
        `docker://${dst.host}/pushed/big:1`,
      ]);
      await dst.stop();
      return t.seconds;
    },
  };
  if (baseline) pushers.baseline = pushWith(baseline);
  const pushes = await rounds(RUNS, pushers);
  const berthPull = pulls.berth!;
  const podmanPull = pulls.podman!;
  const skopeoPull = pulls.skopeo!;
  const pigz = pulls.pigz!;
  const berthPush = pushes.berth!;
  const skopeoPush = pushes.skopeo!;
  let podmanNote = "";

  // images with 100 images.
  await seedMany(src.host);
  const manyRoot = await fresh("many");
  await runOk(process.execPath, [berthBin, "--root", manyRoot, "pull", "-q", "-a", `${src.host}/bench/many`]);
  const listed = (await runOk(process.execPath, [berthBin, "--root", manyRoot, "images", "-q"])).stdout
    .trim()
    .split("\n").length;
  const berthImages = await repeat(
    Math.max(RUNS, 10),
    async () => (await timed(process.execPath, [berthBin, "--root", manyRoot, "images"])).seconds,
  );
  const podmanRoot = await fresh("podman-many");
  const pod = [
    "--root",
    join(podmanRoot, "root"),
    "--runroot",
    join(podmanRoot, "run"),
    "--storage-driver",
    "vfs",
  ];
  let podmanImages = Number.NaN;
  try {
    // podman 4.3's --all-tags lists tags over HTTPS whatever --tls-verify says: mark the registry insecure.
    const conf = join(podmanRoot, "registries.conf");
    await writeFile(conf, `[[registry]]\nlocation = "${src.host}"\ninsecure = true\n`);
    const env = { CONTAINERS_REGISTRIES_CONF: conf };
    await runOk("podman", [...pod, "pull", "-q", "--all-tags", `${src.host}/bench/many`], { env });
    podmanImages = await repeat(
      Math.max(RUNS, 10),
      async () => (await timed("podman", [...pod, "images"])).seconds,
    );
  } catch (err) {
    podmanNote += ` podman images setup failed: ${(err as Error).message.split("\n")[0]}`;
  }
  await src.stop();
  await run("podman", [...pod, "system", "reset", "-f"]);
  await rm(work, { recursive: true, force: true });

  const ratio = (a: number, b: number) =>
    Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : "n/a";
  rows.push([
    "pull with unpack (s)",
    "berth",
    berthPull,
    "podman pull (overlay)",
    podmanPull,
    `${ratio(podmanPull, berthPull)} (target >= 2.5x)`,
  ]);
  rows.push([
    "pull with unpack (s)",
    "berth",
    berthPull,
    "pigz -d | tar -x",
    pigz,
    `berth takes ${ratio(berthPull, pigz)} of it (target <= 1.2x)`,
  ]);
  rows.push([
    "pull (s)",
    "berth, with unpack",
    berthPull,
    "skopeo copy to oci: (blobs only)",
    skopeoPull,
    `${ratio(skopeoPull, berthPull)} (target >= 1.3x, for blobs only)`,
  ]);
  rows.push([
    "push to an empty registry (s)",
    "berth",
    berthPush,
    "skopeo copy oci: docker://",
    skopeoPush,
    `${ratio(skopeoPush, berthPush)} (target >= 1.4x)`,
  ]);
  rows.push([
    `images with ${listed} images (s)`,
    "berth",
    berthImages,
    "podman images",
    podmanImages,
    `${ratio(podmanImages, berthImages)} (target: berth < 0.150 s)`,
  ]);
  console.log("| measure | berth | time | peer | time | berth advantage |");
  console.log("| --- | --- | ---: | --- | ---: | --- |");
  for (const [what, b, bt, p, pt, r] of rows)
    console.log(`| ${what} | ${b} | ${bt.toFixed(3)} | ${p} | ${pt.toFixed(3)} | ${r} |`);
  console.log(
    `| peak RSS of berth pull (MB) | app-1 (12 MB compressed) | ${smallRss.toFixed(1)} | big-1 (130 MB compressed) | ${berthRss.toFixed(1)} | target < 150 and flat |`,
  );
  if (podmanNote) console.log(`\n${podmanNote}`);
  if (baseline) {
    console.log(
      `\nbaseline ${baseline}: pull ${pulls.baseline!.toFixed(3)} s (berth ${berthPull.toFixed(3)} s, ${ratio(pulls.baseline!, berthPull)}), push ${pushes.baseline!.toFixed(3)} s (berth ${berthPush.toFixed(3)} s, ${ratio(pushes.baseline!, berthPush)})`,
    );
  }
  if (extraCaCerts) console.log("\n(NODE_EXTRA_CA_CERTS was set here and unset for the measured commands)");
  if (settled) console.log(`(pulls and pushes: ${settled})`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
