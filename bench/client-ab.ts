/**
 * Two builds of berth side by side, for a change that must not slow transfers down: pull (with
 * unpack) and push of big-1 against Debian's docker-registry, the builds alternating (which one
 * goes first swaps every round), each command after `settle()`. Prints every wall time and the
 * medians of wall and CPU (user + system) time: CPU time moves less than wall time when the
 * machine is shared.
 *
 *   node dist/scripts/fixtures.js --big && npm run build
 *   node dist/bench/client-ab.js --baseline OTHER/bin/berth.js [--rounds 8]
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, startDistribution, tempDir } from "../test/helpers/processes.js";
import { median, settle } from "./measure.js";

const { values: args } = parseArgs({
  options: { baseline: { type: "string" }, rounds: { type: "string", default: "8" } },
});
if (!args.baseline) throw new Error("--baseline OTHER/bin/berth.js is required");
const ROUNDS = Number(args.rounds);
const builds: Record<string, string> = { this: join(repoRoot(), "bin/berth.js"), baseline: args.baseline };
// As in client.ts: a CA bundle parsed at every Node start is the machine's cost, not Berth's.
delete process.env.NODE_EXTRA_CA_CERTS;

interface Sample {
  wall: number;
  cpu: number;
}

async function timed(argv: string[]): Promise<Sample> {
  const r = await run("/usr/bin/time", ["-f", "BENCH %e %U %S", process.execPath, ...argv]);
  if (r.code !== 0) throw new Error(`berth ${argv.join(" ")} failed:\n${r.stderr}`);
  const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr)!;
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
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
  const work = await tempDir("berth-ab-");
  const pushRoot = join(work, "push-root");
  await runOk(process.execPath, [builds.this!, "--root", pushRoot, "pull", "-q", ref]);
  const samples: Record<string, Record<string, Sample[]>> = {
    pull: { this: [], baseline: [] },
    push: { this: [], baseline: [] },
  };
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ["baseline", "this"] : ["this", "baseline"];
    for (const build of order) {
      const root = join(work, `pull-${n++}`);
      await settle();
      samples.pull![build]!.push(await timed([builds[build]!, "--root", root, "pull", "-q", ref]));
      await rm(root, { recursive: true, force: true });
    }
    for (const build of order) {
      const dst = await startDistribution();
      const target = `${dst.host}/pushed/big:1`;
      await runOk(process.execPath, [builds[build]!, "--root", pushRoot, "tag", ref, target]);
      await settle();
      samples.push![build]!.push(await timed([builds[build]!, "--root", pushRoot, "push", "-q", target]));
      await dst.stop();
    }
  }
  await src.stop();
  console.log(
    `${ROUNDS} rounds; baseline ${builds.baseline}; load average ${(await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ")}`,
  );
  for (const op of ["pull", "push"]) {
    const wall = (b: string) => median(samples[op]![b]!.map((s) => s.wall));
    const cpu = (b: string) => median(samples[op]![b]!.map((s) => s.cpu));
    for (const b of ["this", "baseline"]) {
      console.log(
        `${op} ${b.padEnd(8)} wall ${samples[op]![b]!.map((s) => s.wall.toFixed(2)).join(" ")}  median ${wall(b).toFixed(2)} s, cpu ${cpu(b).toFixed(2)} s`,
      );
    }
    console.log(
      `${op}: this build takes ${(wall("this") / wall("baseline")).toFixed(2)}x the baseline's wall time, ${(cpu("this") / cpu("baseline")).toFixed(2)}x its CPU`,
    );
  }
}

try {
  await main();
} finally {
  await cleanup();
}
