/**
 * Runtime benchmark, in one run, the peers alternating (this machine is shared: a block of one
 * peer's runs followed by a block of another's would compare two different machine loads):
 *   - `berth run --rm busybox:1 true` vs `podman run --rm` (overlay storage, the same runc) vs a
 *     bare `runc run` of a prepared bundle whose overlay rootfs is mounted; with the default
 *     network and with `--network none`
 *   - whether a detached container costs a Node process while it runs (it should be conmon only)
 *   - `berth ps -a` with 100 containers, beside `podman ps -a` with 100 containers
 *
 *   npm run build && node dist/bench/run.js [--rounds 20]
 *
 * Each round runs every peer of a comparison once, in an order that rotates from round to
 * round; the report gives each peer's median, quartiles and minimum, the ratios of the medians,
 * and the load average before and after. A run is timed from spawn to exit, output discarded.
 * Beside the wall time, the CPU time (user + system) of the processes each run waited for:
 * on a machine whose cores are busy with other work, a run's wall time grows with the CPU it
 * needs. (conmon, and what it starts, is not waited for by berth or podman: not counted.)
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fixtureDir, repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, tempDir } from "../test/helpers/processes.js";

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "20" } } });
const ROUNDS = Number(args.rounds);

// As in bench/client.ts: this machine sets NODE_EXTRA_CA_CERTS (30-50 ms per Node start); the
// runtime never uses TLS, so the children run without it.
delete process.env.NODE_EXTRA_CA_CERTS;
const berthBin = join(repoRoot(), "bin/berth.js");

interface Stats {
  /** Mean CPU ms per run (clock ticks of 10 ms, so a mean). */
  cpu: number;
  median: number;
  q1: number;
  q3: number;
  min: number;
  runs: number;
}

function stats(times: number[], cpu: number[]): Stats {
  const s = [...times].sort((a, b) => a - b);
  const at = (p: number) => {
    const i = (s.length - 1) * p;
    const lo = Math.floor(i);
    return s[lo]! + (s[Math.ceil(i)]! - s[lo]!) * (i - lo);
  };
  const meanCpu = cpu.reduce((a, b) => a + b, 0) / cpu.length;
  return { cpu: meanCpu, median: at(0.5), q1: at(0.25), q3: at(0.75), min: s[0]!, runs: s.length };
}

/** CPU ms of the waited-for children of this process so far (/proc/self/stat cutime + cstime). */
function childrenCpu(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

function timeOnce(cmd: string): { ms: number; cpu: number } {
  const cpu = childrenCpu();
  const start = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", cmd], { stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr.toString()}`);
  return { ms, cpu: childrenCpu() - cpu };
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

/** Runs the peers round-robin, `warmup` rounds discarded, the first peer of each round rotating. */
function alternate(peers: Record<string, string>, rounds = ROUNDS, warmup = 2): Record<string, Stats> {
  const names = Object.keys(peers);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const before = load();
  for (let r = 0; r < rounds + warmup; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const t = timeOnce(peers[name]!);
      if (r >= warmup) {
        times[name]!.push(t.ms);
        cpu[name]!.push(t.cpu);
      }
    }
  }
  const after = load();
  const out = Object.fromEntries(names.map((n) => [n, stats(times[n]!, cpu[n]!)]));
  for (const n of names) {
    const s = out[n]!;
    console.log(
      `  ${n.padEnd(30)} median ${s.median.toFixed(1).padStart(6)} ms   IQR ${s.q1.toFixed(1)}–${s.q3.toFixed(1)}   min ${s.min.toFixed(1)}   CPU ${s.cpu.toFixed(0)} ms   (${s.runs} runs)`,
    );
  }
  console.log(`  load average before: ${before}; after: ${after}`);
  return out;
}

const ratio = (a: Stats, b: Stats) => (a.median / b.median).toFixed(2);

/** Waits (up to a minute) for the 1-minute load average to fall back below 1 plus its value at the start. */
const startLoad = loadavg()[0]!;
async function settle(): Promise<void> {
  for (let i = 0; i < 60 && loadavg()[0]! > startLoad + 1; i++) await new Promise((r) => setTimeout(r, 1000));
}

async function main(): Promise<void> {
  console.log(`rounds per comparison: ${ROUNDS} (+2 warm-up); load average at start: ${load()}`);
  const root = await tempDir("berth-bench-store-");
  const berth = `node ${berthBin} --root ${root}`;
  await runOk("node", [berthBin, "--root", root, "load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);

  const podRoot = await tempDir("berth-bench-podman-");
  const podman = `podman --root ${podRoot}/root --runroot ${podRoot}/run --storage-driver overlay --runtime runc --cgroup-manager cgroupfs --events-backend none`;
  await runOk("sh", ["-c", `${podman} load -q -i ${join(fixtureDir(), "busybox.tar")}`]);
  const podRun = `${podman} run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024`;
  const backend = (
    await run("sh", ["-c", `${podman} info --format '{{.Host.NetworkBackend}}'`])
  ).stdout.trim();
  console.log(
    `podman ${(await run("podman", ["--version"])).stdout.trim()}, network backend ${backend || "?"}`,
  );

  // The ps comparison's stores, 100 created containers each, made first: making them loads the
  // machine, which then settles before anything is timed.
  const psRoot = await tempDir("berth-bench-ps-");
  const berthPs = `node ${berthBin} --root ${psRoot}`;
  const podPsRoot = await tempDir("berth-bench-podman-ps-");
  const podmanPs = `podman --root ${podPsRoot}/root --runroot ${podPsRoot}/run --storage-driver overlay --runtime runc --cgroup-manager cgroupfs --events-backend none`;
  await runOk("node", [berthBin, "--root", psRoot, "load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
  await runOk("sh", ["-c", `${podmanPs} load -q -i ${join(fixtureDir(), "busybox.tar")}`]);
  for (let i = 0; i < 100; i += 5)
    await Promise.all(
      Array.from({ length: 5 }, (_, j) =>
        Promise.all([
          runOk("node", [berthBin, "--root", psRoot, "create", "--name", `c${i + j}`, "busybox:1", "true"]),
          runOk("sh", ["-c", `${podmanPs} create --name c${i + j} busybox:1 true`]),
        ]),
      ),
    );
  await settle();

  // The bare runtime: a bundle made by runc spec over the same layer, its overlay mounted once.
  const layers = await readdir(join(root, "layers"));
  const lower = join(root, "layers", layers[0]!, "diff");
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
  const results: string[] = [];
  try {
    await runOk("runc", ["spec", "--bundle", `${bare}/bundle`]);
    const spec = JSON.parse(await readFile(join(bare, "bundle/config.json"), "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["true"];
    spec.root = { path: `${bare}/merged`, readonly: false };
    spec.linux.namespaces.push({ type: "cgroup" });
    await writeFile(join(bare, "bundle/config.json"), JSON.stringify(spec));
    const runcRun = `runc --root ${bare}/state run --bundle ${bare}/bundle bench-$$`;

    for (const [label, flag] of [
      ["default network (berth: slirp4netns; podman: its default bridge)", ""],
      ["--network none", " --network none"],
    ] as const) {
      console.log(`\n== run --rm busybox true, ${label} ==`);
      const r = alternate({
        berth: `${berth} run --rm${flag} busybox:1 true`,
        podman: `${podRun}${flag} busybox:1 true`,
        "runc run": runcRun,
      });
      const line = `${label}: podman/berth ${ratio(r.podman!, r.berth!)}x (target >= 2), berth/runc ${ratio(r.berth!, r["runc run"]!)}x (target <= 3)`;
      console.log(line);
      results.push(line);
    }
  } finally {
    await run("umount", [`${bare}/merged`]);
  }

  console.log("\n== a detached container's processes ==");
  const id = (
    await runOk("node", [berthBin, "--root", root, "run", "-d", "busybox:1", "sleep", "60"])
  ).stdout.trim();
  await new Promise((r) => setTimeout(r, 500));
  const ps = (await runOk("ps", ["-eo", "pid,rss,args"])).stdout.split("\n");
  const mine = ps.filter((l) => l.includes(id) || l.includes(`slirp-${id.slice(0, 32)}`) || l.includes(root));
  for (const l of mine) console.log(`  ${l.trim().slice(0, 120)}`);
  // The program, not its arguments (conmon's --exit-command names node).
  const nodes = mine.filter((l) => /^\s*\d+\s+\d+\s+(\S*\/)?node\s/.test(l)).length;
  console.log(`Node processes while it runs: ${nodes} (target 0)`);
  results.push(`Node processes while a detached container runs: ${nodes} (target 0)`);
  await runOk("node", [berthBin, "--root", root, "rm", "-f", id]);

  console.log("\n== ps -a with 100 containers (each store holds 100 created containers) ==");
  const psr = alternate({
    "berth ps -a": `${berthPs} ps -a`,
    "podman ps -a": `${podmanPs} ps -a`,
    "berth --version": `${berthPs} --version`,
    "node -e 0": "node -e 0",
  });
  const line = `berth ps -a with 100 containers: median ${psr["berth ps -a"]!.median.toFixed(1)} ms (target < 150 ms); podman ps -a ${psr["podman ps -a"]!.median.toFixed(1)} ms`;
  console.log(line);
  results.push(line);
  await runOk("sh", ["-c", `${berthPs} rm $(${berthPs} ps -aq)`]);
  await runOk("sh", ["-c", `${podmanPs} rm -a`]);
  console.log(`\n== summary (load average at the end: ${load()}) ==\n${results.join("\n")}`);
}

try {
  await main();
} finally {
  await cleanup();
}
