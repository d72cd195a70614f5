/**
 * The sandbox lifecycle's cost (issue 15): a build's RUN step (`runEphemeral`: prepare → network →
 * create under conmon → start → wait → release) beside a bare `runc run` of a prepared bundle over
 * the same layer, and, with `--base DIR` (another checkout of Berth, built: `git worktree add DIR
 * COMMIT && cd DIR && npm ci`), the same step and `berth run --rm` of that checkout, to compare a
 * change with what came before. Peers alternate round by round (the machine is shared).
 *
 *   npm run build && node dist/bench/sandbox.js [--rounds 20] [--base DIR]
 *
 * Times are wall milliseconds per step; CPU is the user+system time of this process and the
 * processes it waited for during the step (conmon, in the foreground for a step, reaps runc and
 * the container's process, so theirs is counted too).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { EphemeralOptions, EphemeralResult } from "../src/runtime/ephemeral.js";
import { runEphemeral } from "../src/runtime/ephemeral.js";
import { fixtureDir, repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, tempDir } from "../test/helpers/processes.js";
import { median } from "./measure.js";

const { values: args } = parseArgs({
  options: { rounds: { type: "string", default: "20" }, base: { type: "string" } },
});
const ROUNDS = Number(args.rounds);
// As in bench/run.ts: the children need no TLS, and NODE_EXTRA_CA_CERTS costs each Node start.
delete process.env.NODE_EXTRA_CA_CERTS;

/** CPU ms of this process and its waited-for children so far (/proc/self/stat utime..cstime). */
function cpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

type Peer = () => Promise<void>;

async function alternate(peers: Record<string, Peer>, warmup = 2): Promise<Record<string, number>> {
  const names = Object.keys(peers);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const before = load();
  for (let r = 0; r < ROUNDS + warmup; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const c = cpuMs();
      const start = performance.now();
      await peers[name]!();
      const ms = performance.now() - start;
      if (r >= warmup) {
        times[name]!.push(ms);
        cpu[name]! += cpuMs() - c;
      }
    }
  }
  const out: Record<string, number> = {};
  for (const n of names) {
    const t = [...times[n]!].sort((a, b) => a - b);
    out[n] = median(t);
    console.log(
      `  ${n.padEnd(34)} median ${out[n]!.toFixed(1).padStart(6)} ms   min ${t[0]!.toFixed(1).padStart(6)}   CPU ${(cpu[n]! / ROUNDS).toFixed(0)} ms`,
    );
  }
  console.log(`  load average before: ${before}; after: ${load()}`);
  return out;
}

async function main(): Promise<void> {
  console.log(`rounds: ${ROUNDS} (+2 warm-up); load average at start: ${load()}`);
  const store = await tempDir("berth-bench-sandbox-");
  const berthBin = join(repoRoot(), "bin/berth.js");
  await runOk("node", [berthBin, "--root", store, "load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
  const lower = join(store, "layers", (await readdir(join(store, "layers")))[0]!, "diff");
  const work = await tempDir("berth-bench-steps-");
  let n = 0;
  const step =
    (fn: (o: EphemeralOptions) => Promise<EphemeralResult>, network: "none" | "default") => async () => {
      const dir = join(work, String(n++));
      const r = await fn({
        lowerDirs: [lower],
        upperDir: join(dir, "upper"),
        scratchDir: join(dir, "scratch"),
        args: ["sh", "-c", "echo hi"],
        network,
      });
      if (r.exitCode !== 0 || r.stdout.toString() !== "hi\n")
        throw new Error(`step: ${r.exitCode} ${r.stderr}`);
      await rm(dir, { recursive: true, force: true });
    };
  const base = args.base
    ? (
        (await import(join(args.base, "dist/src/runtime/ephemeral.js"))) as {
          runEphemeral: typeof runEphemeral;
        }
      ).runEphemeral
    : undefined;

  // The bare runtime: a bundle made by runc spec over the same layer, its overlay mounted once.
  const bare = await tempDir("berth-bench-runc-");
  for (const d of ["upper", "work", "merged", "bundle"]) await mkdir(join(bare, d));
  await runOk("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${lower},upperdir=${bare}/upper,workdir=${bare}/work`,
    `${bare}/merged`,
  ]);
  try {
    await runOk("runc", ["spec", "--bundle", `${bare}/bundle`]);
    const spec = JSON.parse(await readFile(join(bare, "bundle/config.json"), "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["sh", "-c", "echo hi"];
    spec.root = { path: `${bare}/merged`, readonly: false };
    spec.linux.namespaces.push({ type: "cgroup" });
    await writeFile(join(bare, "bundle/config.json"), JSON.stringify(spec));
    let k = 0;
    const runcRun = async () => {
      const r = spawnSync(
        "runc",
        ["--root", `${bare}/state`, "run", "--bundle", `${bare}/bundle`, `bench-${process.pid}-${k++}`],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      if (r.status !== 0) throw new Error(`runc run: ${r.stderr}`);
    };

    for (const network of ["none", "default"] as const) {
      console.log(`\n== a build's RUN step (sh -c 'echo hi'), network ${network} ==`);
      const r = await alternate({
        "RUN step": step(runEphemeral, network),
        ...(base ? { "RUN step, --base": step(base, network) } : {}),
        ...(network === "none" ? { "runc run (bare)": runcRun } : {}),
      });
      if (r["runc run (bare)"])
        console.log(`  RUN step / bare runc run: ${(r["RUN step"]! / r["runc run (bare)"]!).toFixed(2)}x`);
      if (r["RUN step, --base"])
        console.log(`  RUN step / the base's: ${(r["RUN step"]! / r["RUN step, --base"]!).toFixed(2)}x`);
    }
    if (args.base) {
      const baseBin = join(args.base, "bin/berth.js");
      for (const flag of [[], ["--network", "none"]]) {
        console.log(`\n== berth run --rm ${flag.join(" ")} busybox:1 true ==`);
        const cli = (bin: string) => async () => {
          const r = spawnSync("node", [bin, "--root", store, "run", "--rm", ...flag, "busybox:1", "true"], {
            stdio: "ignore",
          });
          if (r.status !== 0) throw new Error(`${bin} run exited ${r.status}`);
        };
        const r = await alternate({ berth: cli(berthBin), "berth --base": cli(baseBin) });
        console.log(`  berth / the base's: ${(r.berth! / r["berth --base"]!).toFixed(2)}x`);
      }
    }
  } finally {
    await run("umount", [`${bare}/merged`]);
  }
}

try {
  await main();
} finally {
  await cleanup();
}
