/**
 * scout benchmark, in one run: `berth scout sbom` cold (an empty layer cache) and warm (every
 * layer analysed before), and `berth scout cves` (warm, against a database of a few thousand
 * advisories), on the debootstrapped Debian image and on big-1, with wall time and peak RSS (GNU
 * time); `node -e 0` for Node's own start; and, as the peer, @cyclonedx/cdxgen making a CycloneDX
 * SBOM of the same images (as docker-archives) when it is installed outside the repository:
 *
 *   npm install --prefix /tmp/cdxgen-peer @cyclonedx/cdxgen
 *   npm run build && node dist/scripts/fixtures.js --debian && node dist/scripts/fixtures.js --big
 *   node dist/bench/scout.js --runs 5 [--cdxgen /tmp/cdxgen-peer/node_modules/.bin/cdxgen]
 *
 * Needs root (page cache drops) and GNU time (`apt-get install time`).
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, tempDir } from "../test/helpers/processes.js";
import { median, settle } from "./measure.js";

/** Wall time, CPU time (user + system: what a loaded machine changes least) and peak RSS of one command (GNU time). */
async function timed(
  cmd: string,
  argv: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ seconds: number; cpu: number; rssMB: number }> {
  const r = await run("/usr/bin/time", ["-f", "BENCH %e %U %S %M", cmd, ...argv], { env });
  if (r.code !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr)!;
  return { seconds: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMB: Number(m[4]) / 1024 };
}

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    cdxgen: { type: "string" },
    "peer-runs": { type: "string", default: "1" },
  },
});
const RUNS = Number(args.runs);
const PEER_RUNS = Number(args["peer-runs"]);
// As the other benchmarks: this machine sets NODE_EXTRA_CA_CERTS (30-50 ms per Node start); a scan
// of a local layout talks to no registry, so the measured commands run without it.
delete process.env.NODE_EXTRA_CA_CERTS;
const berthBin = join(repoRoot(), "bin/berth.js");
const cdxgen = args.cdxgen ?? "/tmp/cdxgen-peer/node_modules/.bin/cdxgen";

const IMAGES = [
  { label: "debian-12", layout: join(repoRoot(), ".fixtures/images-debian/oci"), tag: "debian-12" },
  { label: "big-1", layout: join(repoRoot(), ".fixtures/images-big/oci"), tag: "big-1" },
];

/** A tracker-shaped feed: 40 CVEs for each of 60 source packages of a Debian 12 image, and 3000 for packages it lacks. */
function trackerFeed(sources: string[]): string {
  const feed: Record<string, Record<string, object>> = {};
  let n = 0;
  const add = (pkg: string, fixed: string | undefined) => {
    feed[pkg] ??= {};
    feed[pkg][`CVE-2099-${String(++n).padStart(5, "0")}`] = {
      description: "synthetic",
      releases: {
        bookworm: fixed
          ? { status: "resolved", fixed_version: fixed, urgency: "medium" }
          : { status: "open", urgency: "low" },
      },
    };
  };
  for (const s of sources.slice(0, 60))
    for (let i = 0; i < 40; i++) add(s, i % 4 === 0 ? undefined : `${i % 3}.${i}-1`);
  for (let i = 0; i < 3000; i++) add(`absent-${i % 500}`, "1.0-1");
  return JSON.stringify(feed);
}

async function main(): Promise<void> {
  for (const img of IMAGES)
    if (!existsSync(join(img.layout, "index.json")))
      throw new Error(`${img.layout} is missing: build it (see the header)`);
  const work = await tempDir("scout-bench-");
  const node = process.execPath;
  const berth = (root: string, ...a: string[]) => [berthBin, "--root", root, ...a];
  const rows: { image: string; what: string; seconds: number[]; cpu: number[]; rss: number[] }[] = [];
  const record = (image: string, what: string, r: { seconds: number; cpu: number; rssMB: number }) => {
    let row = rows.find((x) => x.image === image && x.what === what);
    if (!row) {
      row = { image, what, seconds: [], cpu: [], rss: [] };
      rows.push(row);
    }
    row.seconds.push(r.seconds);
    row.cpu.push(r.cpu);
    row.rss.push(r.rssMB);
  };
  // The vulnerability database, once.
  const dbRoot = join(work, "db-root");
  const sbomJson = await runOk(
    node,
    berth(dbRoot, "scout", "sbom", `oci-dir://${IMAGES[0]!.layout}:${IMAGES[0]!.tag}`, "--format", "json"),
  );
  const sources = [
    ...new Set((JSON.parse(sbomJson.stdout).packages as { source?: string }[]).map((p) => p.source!)),
  ];
  const feed = join(work, "tracker.json");
  await writeFile(feed, trackerFeed(sources));
  await runOk(node, berth(dbRoot, "scout", "db", "update", "--source", feed));
  const archives: Record<string, string> = {};
  for (const img of IMAGES) {
    archives[img.label] = join(work, `${img.label}.tar`);
    await runOk(
      node,
      berth(
        dbRoot,
        "copy",
        `oci:${img.layout}:${img.tag}`,
        `docker-archive:${archives[img.label]}:bench/${img.label}:1`,
      ),
    );
  }
  let how = "";
  for (let run = 0; run < RUNS; run++) {
    how = await settle();
    // Node's start as the warm scans see it: its files in the page cache.
    await timed(node, ["-e", "0"]);
    record("-", "node -e 0", await timed(node, ["-e", "0"]));
    for (const img of IMAGES) {
      const root = join(work, `root-${img.label}`);
      await rm(root, { recursive: true, force: true });
      await mkdir(join(root, "scout"), { recursive: true });
      await copyFile(join(dbRoot, "scout/vulndb.db"), join(root, "scout/vulndb.db"));
      const target = `oci-dir://${img.layout}:${img.tag}`;
      const out = join(work, "out.json");
      // Cold: nothing analysed, nothing in the page cache. Warm: a re-scan right after, as a user
      // or CI runs one (the layer cache and Berth's files where the scan before left them).
      await settle();
      record(
        img.label,
        "sbom cold",
        await timed(node, berth(root, "scout", "sbom", target, "--format", "cyclonedx", "-o", out)),
      );
      record(
        img.label,
        "sbom warm",
        await timed(node, berth(root, "scout", "sbom", target, "--format", "cyclonedx", "-o", out)),
      );
      record(
        img.label,
        "cves warm",
        await timed(node, berth(root, "scout", "cves", target, "--format", "json", "-o", out)),
      );
    }
  }
  if (existsSync(cdxgen)) {
    for (let run = 0; run < PEER_RUNS; run++) {
      for (const img of IMAGES) {
        await settle();
        record(
          img.label,
          "cdxgen -t docker (peer)",
          await timed(cdxgen, ["-t", "docker", "-o", join(work, "cdx.json"), archives[img.label]!], {
            ...process.env,
            FETCH_LICENSE: "false",
          }),
        );
      }
    }
  } else console.log(`cdxgen not found at ${cdxgen}: no peer measured`);
  const [l1, l5, l15] = loadavg();
  console.log(
    `\nscout benchmark: ${RUNS} runs (peer ${existsSync(cdxgen) ? PEER_RUNS : 0}), ${how}; load average ${l1!.toFixed(2)} ${l5!.toFixed(2)} ${l15!.toFixed(2)}`,
  );
  console.log(
    "image      | command                 | median s | min s | CPU s (median) | peak RSS MB (median)",
  );
  for (const r of rows) {
    const min = Math.min(...r.seconds);
    console.log(
      `${r.image.padEnd(10)} | ${r.what.padEnd(23)} | ${median(r.seconds).toFixed(2).padStart(8)} | ${min.toFixed(2).padStart(5)} | ${median(r.cpu).toFixed(2).padStart(14)} | ${median(r.rss).toFixed(0).padStart(5)}`,
    );
  }
  const nodeStart = median(rows.find((r) => r.what === "node -e 0")!.seconds);
  for (const img of IMAGES) {
    const get = (what: string) => rows.find((r) => r.image === img.label && r.what === what);
    const warm = median(get("sbom warm")!.seconds);
    const warmCpu = median(get("sbom warm")!.cpu);
    const nodeCpu = median(rows.find((r) => r.what === "node -e 0")!.cpu);
    const cold = median(get("sbom cold")!.seconds);
    const peer = get("cdxgen -t docker (peer)");
    console.log(
      `${img.label}: warm sbom ${(warm * 1000).toFixed(0)} ms = node start + ${((warm - nodeStart) * 1000).toFixed(0)} ms (CPU: node's + ${((warmCpu - nodeCpu) * 1000).toFixed(0)} ms); cold ${cold.toFixed(2)} s${peer ? `; cdxgen/berth cold ${(median(peer.seconds) / cold).toFixed(1)}x` : ""}`,
    );
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
