/**
 * Registry benchmark: Berth's registry against Debian's docker-registry (CNCF distribution), side
 * by side on this machine, in one run. Prints each figure and Berth/distribution ratios.
 *
 *   node dist/scripts/fixtures.js --big && npm run bench [-- --duration 10]
 *
 * Measures: push of the big-1 fixture with `skopeo copy` into an empty store (wall time, median of
 * --pushes, the two registries alternating), manifest GET by tag and tags/list GET with wrk (32
 * connections), blob GET throughput with wrk (4 connections on the largest layer), each the median
 * of --rounds alternating runs, and Berth's peak RSS (VmHWM) over the pushes. Loopback numbers
 * on a 2-core machine move by 10-20% from run to run, hence the alternation and medians.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, startBerthRegistry, startDistribution } from "../test/helpers/processes.js";
import { median } from "./measure.js";
import { type ReadTargets, readTargets } from "./read-targets.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    pushes: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
  },
});
const duration = `${args.duration}s`;
const REPO = "bench/big";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

interface Peer {
  name: string;
  host: string;
  pid: number;
  stop(): Promise<unknown>;
}

async function main(): Promise<void> {
  const layout = join(repoRoot(), ".fixtures/images-big/oci");
  await readFile(join(layout, "index.json")).catch(() => {
    throw new Error("no big fixture: run `node dist/scripts/fixtures.js --big` first");
  });
  const results: Record<string, Record<string, number>> = { berth: {}, distribution: {} };
  const pushTimes = { berth: [] as number[], distribution: [] as number[] };

  for (let i = 0; i < Number(args.pushes); i++) {
    for (const which of ["berth", "distribution"] as const) {
      const peer = await start(which);
      const t0 = performance.now();
      await runOk("skopeo", [
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        `oci:${layout}:big-1`,
        `docker://${peer.host}/${REPO}:1`,
      ]);
      const seconds = (performance.now() - t0) / 1000;
      pushTimes[which].push(seconds);
      const r = results[which]!;
      if (which === "berth") r.peakRssMB = Math.max(r.peakRssMB ?? 0, await peakRssMB(peer.pid));
      if (i < Number(args.pushes) - 1) await peer.stop();
      else (results[which] as unknown as { peer: Peer }).peer = peer;
    }
  }

  results.berth!.pushSeconds = median(pushTimes.berth);
  results.distribution!.pushSeconds = median(pushTimes.distribution);
  const samples: Record<string, Record<string, number[]>> = { berth: {}, distribution: {} };
  const urlsFor: Record<string, ReadTargets> = {};
  for (const which of ["berth", "distribution"] as const) {
    const peer = (results[which] as unknown as { peer: Peer }).peer;
    urlsFor[which] = await readTargets(`http://${peer.host}`, REPO);
  }
  const sample = (which: string, key: string, value: number) => {
    const s = samples[which]!;
    s[key] = [...(s[key] ?? []), value];
  };
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const which of ["berth", "distribution"] as const) {
      const u = urlsFor[which]!;
      sample(which, "manifestRps", await wrkRequestsPerSecond(u.manifest, 32, [`Accept: ${OCI_MANIFEST}`]));
      sample(which, "tagsRps", await wrkRequestsPerSecond(u.tags, 32));
      sample(which, "blobMBps", await wrkTransferMBps(u.blob, 4));
    }
  }
  for (const which of ["berth", "distribution"] as const) {
    for (const [key, values] of Object.entries(samples[which]!)) results[which]![key] = median(values);
    await (results[which] as unknown as { peer: Peer }).peer.stop();
  }

  const b = results.berth!;
  const d = results.distribution!;
  const rows: [string, number, number, number, string][] = [
    [
      "push big-1 (s, lower is better)",
      b.pushSeconds!,
      d.pushSeconds!,
      d.pushSeconds! / b.pushSeconds!,
      ">= 1.0x",
    ],
    ["manifest GET by tag (req/s)", b.manifestRps!, d.manifestRps!, b.manifestRps! / d.manifestRps!, ">= 5x"],
    ["tags/list GET (req/s)", b.tagsRps!, d.tagsRps!, b.tagsRps! / d.tagsRps!, ">= 5x"],
    ["blob GET (MB/s)", b.blobMBps!, d.blobMBps!, b.blobMBps! / d.blobMBps!, ">= 1.0x"],
  ];
  console.log("| measure | berth | distribution | berth advantage | target |");
  console.log("| --- | ---: | ---: | ---: | --- |");
  for (const [what, bv, dv, ratio, target] of rows) {
    console.log(`| ${what} | ${fmt(bv)} | ${fmt(dv)} | ${ratio.toFixed(2)}x | ${target} |`);
  }
  console.log(`| berth peak RSS during push (MB) | ${fmt(b.peakRssMB!)} | | | < 150 |`);
}

async function start(which: "berth" | "distribution"): Promise<Peer> {
  if (which === "berth") {
    const reg = await startBerthRegistry();
    return { name: which, host: reg.host, pid: reg.proc.pid!, stop: () => reg.stop() };
  }
  const reg = await startDistribution();
  return { name: which, host: reg.host, pid: reg.proc.pid!, stop: () => reg.stop() };
}

async function peakRssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function wrk(url: string, connections: number, headers: string[] = []): Promise<string> {
  const hdrArgs = headers.flatMap((h) => ["-H", h]);
  const res = await run("wrk", ["-t2", `-c${connections}`, `-d${duration}`, "--latency", ...hdrArgs, url]);
  if (res.code !== 0) throw new Error(`wrk failed: ${res.stderr}`);
  if (/Non-2xx or 3xx responses/.test(res.stdout))
    throw new Error(`wrk saw errors for ${url}:\n${res.stdout}`);
  return res.stdout;
}

async function wrkRequestsPerSecond(
  url: string,
  connections: number,
  headers: string[] = [],
): Promise<number> {
  const out = await wrk(url, connections, headers);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
}

async function wrkTransferMBps(url: string, connections: number): Promise<number> {
  const out = await wrk(url, connections);
  const m = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB)/.exec(out);
  if (!m) throw new Error(`no transfer rate in wrk output:\n${out}`);
  const scale = { KB: 1 / 1024, MB: 1, GB: 1024 }[m[2] as "KB" | "MB" | "GB"];
  return Number(m[1]) * scale;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
