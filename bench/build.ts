/**
 * Build benchmark, in one run: the same Dockerfile and context (a few thousand small files and
 * one 32 MiB file, generated here) built by `berth build` and by Debian's `buildah bud --layers`
 * (chroot isolation, overlay storage), cold (--no-cache) and fully cached, with berth's peak RSS.
 *
 *   npm run build && node dist/bench/build.js --runs 3
 *
 * Needs root, buildah, skopeo, runc and GNU time (`apt-get install time`).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fixtureDir, repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, tempDir } from "../test/helpers/processes.js";
import { makeContext } from "./build-context.js";
import { median, settle, timed } from "./measure.js";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "3" }, files: { type: "string", default: "3000" } },
});
const RUNS = Number(args.runs);
const FILES = Number(args.files);

// As in bench/client.ts: this machine sets NODE_EXTRA_CA_CERTS (30-50 ms per Node start); the
// build talks to no registry, so the measured commands run without it.
const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
const berthBin = join(repoRoot(), "bin/berth.js");

async function main(): Promise<void> {
  const work = await tempDir("berth-bench-build-");
  const ctx = join(work, "ctx");
  await mkdir(ctx);
  await makeContext(ctx, FILES);

  const berthRoot = join(work, "berth");
  await runOk(process.execPath, [
    berthBin,
    "--root",
    berthRoot,
    "load",
    "-q",
    "-i",
    join(fixtureDir(), "busybox.tar"),
  ]);
  const bhStore = [
    `--root=${join(work, "buildah")}`,
    `--runroot=${join(work, "buildah-run")}`,
    "--storage-driver=overlay",
  ];
  await runOk("skopeo", [
    "copy",
    "-q",
    "--insecure-policy",
    `docker-archive:${join(fixtureDir(), "busybox.tar")}`,
    `containers-storage:[overlay@${join(work, "buildah")}+${join(work, "buildah-run")}]docker.io/library/busybox:1`,
  ]);
  const bhEnv = { BUILDAH_ISOLATION: "chroot" };
  // After the page cache is dropped, what a developer's rebuild would find cached is read back:
  // the context, both tools' programs and both stores.
  const warm = [
    ctx,
    join(repoRoot(), "dist"),
    join(repoRoot(), "node_modules"),
    berthRoot,
    join(work, "buildah"),
  ];
  const buildahBin = (await runOk("sh", ["-c", "command -v buildah"])).stdout.trim();
  warm.push(buildahBin);
  let settled = "";
  const berth = async (extra: string[]) => {
    settled = await settle(warm);
    return timed(process.execPath, [
      berthBin,
      "--root",
      berthRoot,
      "build",
      "-q",
      ...extra,
      "-t",
      "bench:1",
      ctx,
    ]);
  };
  const buildah = async (extra: string[]) => {
    settled = await settle(warm);
    return timed("buildah", [...bhStore, "bud", "--layers", "-q", ...extra, "-t", "bench:1", ctx], bhEnv);
  };

  // One unmeasured build each, so both have run once (binaries, the base image's layers).
  await berth(["--no-cache"]);
  await buildah(["--no-cache"]);
  const samples = {
    berthCold: [] as number[],
    buildahCold: [] as number[],
    berthCached: [] as number[],
    buildahCached: [] as number[],
    rss: [] as number[],
  };
  for (let i = 0; i < RUNS; i++) {
    const bc = await berth(["--no-cache"]);
    samples.berthCold.push(bc.seconds);
    samples.rss.push(bc.rssMB);
    samples.buildahCold.push((await buildah(["--no-cache"])).seconds);
    const bw = await berth([]);
    samples.berthCached.push(bw.seconds);
    samples.rss.push(bw.rssMB);
    samples.buildahCached.push((await buildah([])).seconds);
  }
  const check = await runOk(process.execPath, [berthBin, "--root", berthRoot, "run", "--rm", "bench:1"]);
  const rows: [string, number, number, number, string][] = [
    ["cold build, --no-cache (s)", median(samples.berthCold), median(samples.buildahCold), 1.5, ""],
    ["fully cached rebuild (s)", median(samples.berthCached), median(samples.buildahCached), 5, ""],
  ];
  console.log(
    `\nberth build vs buildah bud --layers (chroot, overlay), ${FILES} small files + 32 MiB, median of ${RUNS}`,
  );
  console.log(`(the image runs: ${check.stdout.trim()} files counted; ${settled})\n`);
  console.log("| measure | berth | buildah | berth advantage |");
  console.log("| --- | ---: | ---: | --- |");
  for (const [name, b, p, target] of rows)
    console.log(
      `| ${name} | ${b.toFixed(3)} | ${p.toFixed(3)} | ${(p / b).toFixed(2)}x (target >= ${target}x) |`,
    );
  console.log(`| peak RSS of berth build (MB) | ${Math.max(...samples.rss).toFixed(1)} | | target < 200 |`);
  console.log(`\nsamples: ${JSON.stringify(samples)}`);
  if (extraCaCerts)
    console.log("NODE_EXTRA_CA_CERTS was unset for the measured commands (see bench/client.ts).");
  await run("buildah", [...bhStore, "rm", "--all"]);
  await run("buildah", [...bhStore, "rmi", "--all", "--force"]);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
