/**
 * What isolation costs, in one run, the peers alternating round by round (the machine is shared):
 *   - `run --rm --network none busybox:1 true` with Berth's default seccomp profile, without a
 *     filter (`--security-opt seccomp=unconfined`), and podman's default (seccomp on) and
 *     unconfined: the filter must cost Berth under 5 ms
 *   - `--userns=auto`: a first run of the image (its layers copied with shifted owners first),
 *     later runs (the copies reused), and a run without a user namespace; podman's
 *     `--userns=auto` beside them when this host lets it run (it needs /etc/subuid entries for
 *     `containers`: the benchmark adds them for its run and restores the files, only with
 *     --podman-userns)
 *   - shifting a larger layer (5000 files, 100 MB) on its own: the cost per image that a first
 *     run pays once per mapping
 *
 *   npm run build && node dist/bench/security.js [--rounds 30] [--podman-userns]
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, release } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_SECCOMP_PROFILE, nativeArch, seccompForSpec } from "../src/runtime/seccomp/profile.js";
import { shiftedLayer } from "../src/runtime/userns.js";
import { fixtureDir, repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, tempDir } from "../test/helpers/processes.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "30" },
    "podman-userns": { type: "boolean", default: false },
  },
});
const ROUNDS = Number(args.rounds);
delete process.env.NODE_EXTRA_CA_CERTS;
const berthBin = join(repoRoot(), "bin/berth.js");

interface Stats {
  median: number;
  q1: number;
  q3: number;
  min: number;
  cpu: number;
}

function stats(times: number[], cpu: number[]): Stats {
  const s = [...times].sort((a, b) => a - b);
  const at = (p: number) => {
    const i = (s.length - 1) * p;
    const lo = Math.floor(i);
    return s[lo]! + (s[Math.ceil(i)]! - s[lo]!) * (i - lo);
  };
  return {
    median: at(0.5),
    q1: at(0.25),
    q3: at(0.75),
    min: s[0]!,
    cpu: cpu.reduce((a, b) => a + b, 0) / cpu.length,
  };
}

function childrenCpu(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

function timeOnce(cmd: string, env: NodeJS.ProcessEnv = process.env): { ms: number; cpu: number } {
  const cpu = childrenCpu();
  const start = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", cmd], { stdio: ["ignore", "ignore", "pipe"], env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr.toString()}`);
  return { ms, cpu: childrenCpu() - cpu };
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

interface Peer {
  cmd: string;
  /** Untimed, before each timed run (a first run's copies removed). */
  before?: string;
  env?: NodeJS.ProcessEnv;
}

function alternate(peers: Record<string, Peer>, rounds = ROUNDS, warmup = 2): Record<string, Stats> {
  const names = Object.keys(peers);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const before = load();
  for (let r = 0; r < rounds + warmup; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const p = peers[name]!;
      if (p.before) spawnSync("sh", ["-c", p.before]);
      const t = timeOnce(p.cmd, { ...process.env, ...p.env });
      if (r >= warmup) {
        times[name]!.push(t.ms);
        cpu[name]!.push(t.cpu);
      }
    }
  }
  const out = Object.fromEntries(names.map((n) => [n, stats(times[n]!, cpu[n]!)]));
  for (const n of names) {
    const s = out[n]!;
    console.log(
      `  ${n.padEnd(34)} median ${s.median.toFixed(1).padStart(6)} ms   IQR ${s.q1.toFixed(1)}–${s.q3.toFixed(1)}   min ${s.min.toFixed(1)}   CPU ${s.cpu.toFixed(0)} ms`,
    );
  }
  console.log(`  load average before: ${before}; after: ${load()}`);
  return out;
}

async function main(): Promise<void> {
  console.log(`rounds per comparison: ${ROUNDS} (+2 warm-up); load average at start: ${load()}`);
  const root = await tempDir("berth-bench-sec-");
  const berth = `node ${berthBin} --root ${root}`;
  await runOk("node", [berthBin, "--root", root, "load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
  const podRoot = await tempDir("berth-bench-sec-podman-");
  const podman = `podman --root ${podRoot}/root --runroot ${podRoot}/run --storage-driver overlay --runtime runc --cgroup-manager cgroupfs --events-backend none`;
  await runOk("sh", ["-c", `${podman} load -q -i ${join(fixtureDir(), "busybox.tar")}`]);
  const podRun = `${podman} run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024`;
  const results: string[] = [];

  console.log("\n== run --rm --network none busybox true: the seccomp filter ==");
  const f = alternate({
    "berth (default profile)": { cmd: `${berth} run --rm --network none busybox:1 true` },
    "berth seccomp=unconfined": {
      cmd: `${berth} run --rm --network none --security-opt seccomp=unconfined busybox:1 true`,
    },
    "podman (default profile)": { cmd: `${podRun} busybox:1 true` },
    "podman seccomp=unconfined": { cmd: `${podRun} --security-opt seccomp=unconfined busybox:1 true` },
  });
  const cost = f["berth (default profile)"]!.median - f["berth seccomp=unconfined"]!.median;
  const podCost = f["podman (default profile)"]!.median - f["podman seccomp=unconfined"]!.median;
  const line = `seccomp filter: berth +${cost.toFixed(1)} ms (target < 5), podman +${podCost.toFixed(1)} ms; berth default vs podman default ${(f["podman (default profile)"]!.median / f["berth (default profile)"]!.median).toFixed(2)}x faster`;
  console.log(line);
  results.push(line);

  // The filter alone: one bundle run by runc with Berth's default filter and without it, so
  // that neither Node nor conmon adds its noise (on a shared machine the runs above vary by
  // more than the filter can cost).
  console.log("\n== runc run of one bundle: the default filter vs none ==");
  const layer = join(root, "layers", (await readdir(join(root, "layers")))[0]!, "diff");
  const bare = await tempDir("berth-bench-sec-runc-");
  for (const d of ["upper", "work", "merged", "plain", "filtered"]) await mkdir(join(bare, d));
  await runOk("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${layer},upperdir=${bare}/upper,workdir=${bare}/work`,
    `${bare}/merged`,
  ]);
  try {
    await runOk("runc", ["spec", "--bundle", `${bare}/plain`]);
    const spec = JSON.parse(await readFile(join(bare, "plain/config.json"), "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["true"];
    spec.root = { path: `${bare}/merged`, readonly: false };
    await writeFile(join(bare, "plain/config.json"), JSON.stringify(spec));
    spec.linux.seccomp = seccompForSpec(DEFAULT_SECCOMP_PROFILE, {
      arch: nativeArch(),
      kernel: release(),
      capabilities: spec.process.capabilities.bounding,
    });
    await writeFile(join(bare, "filtered/config.json"), JSON.stringify(spec));
    const b = alternate(
      {
        "runc run, Berth's default filter": {
          cmd: `runc --root ${bare}/state run --bundle ${bare}/filtered sec-$$`,
        },
        "runc run, no filter": { cmd: `runc --root ${bare}/state run --bundle ${bare}/plain sec-$$` },
      },
      ROUNDS * 2,
    );
    const bareCost = b["runc run, Berth's default filter"]!.median - b["runc run, no filter"]!.median;
    const cpuCost = b["runc run, Berth's default filter"]!.cpu - b["runc run, no filter"]!.cpu;
    const l = `seccomp filter in runc alone: +${bareCost.toFixed(1)} ms wall (median), +${cpuCost.toFixed(1)} ms CPU (mean) per container (target < 5)`;
    console.log(l);
    results.push(l);
  } finally {
    await run("umount", [`${bare}/merged`]);
  }

  console.log("\n== --userns=auto ==");
  const ids = await tempDir("berth-bench-subids-");
  await writeFile(join(ids, "subids"), "containers:400000:655360\n");
  const env = { BERTH_SUBUID_FILE: join(ids, "subids"), BERTH_SUBGID_FILE: join(ids, "subids") };
  const peers: Record<string, Peer> = {
    "berth --userns=auto, first run": {
      cmd: `${berth} run --rm --network none --userns auto busybox:1 true`,
      before: `rm -rf ${root}/layers/*/idmap-*`,
      env,
    },
    "berth --userns=auto, later runs": {
      cmd: `${berth} run --rm --network none --userns auto busybox:1 true`,
      env,
    },
    "berth, no user namespace": { cmd: `${berth} run --rm --network none busybox:1 true` },
  };
  let restore: (() => Promise<void>) | undefined;
  if (args["podman-userns"]) restore = await podmanSubIds();
  try {
    if (restore || (await podmanAutoWorks(podRun))) {
      peers["podman --userns=auto"] = { cmd: `${podRun} --userns=auto busybox:1 true` };
      peers["podman, no user namespace"] = { cmd: `${podRun} busybox:1 true` };
    } else
      console.log(
        "  (podman --userns=auto cannot run here: /etc/subuid has no `containers` entries; run with --podman-userns)",
      );
    const u = alternate(peers, Math.max(10, Math.round(ROUNDS / 2)));
    const first = u["berth --userns=auto, first run"]!.median;
    const later = u["berth --userns=auto, later runs"]!.median;
    const plain = u["berth, no user namespace"]!.median;
    const l2 = `userns=auto (busybox, ${await treeSize(root)}): first run ${first.toFixed(0)} ms, later ${later.toFixed(0)} ms, none ${plain.toFixed(0)} ms${u["podman --userns=auto"] ? `; podman auto ${u["podman --userns=auto"].median.toFixed(0)} ms, podman none ${u["podman, no user namespace"]!.median.toFixed(0)} ms` : ""}`;
    console.log(l2);
    results.push(l2);
  } finally {
    await restore?.();
  }

  console.log("\n== shifting a larger layer: 5000 files, 100 MB ==");
  const layerDir = await tempDir("berth-bench-layer-");
  await mkdir(join(layerDir, "diff"));
  for (let d = 0; d < 50; d++) {
    await mkdir(join(layerDir, "diff", `d${d}`));
    for (let i = 0; i < 100; i++)
      await writeFile(join(layerDir, "diff", `d${d}`, `f${i}`), Buffer.alloc(20_000, i));
  }
  const map = {
    uidMappings: [{ containerID: 0, hostID: 500000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 500000, size: 65536 }],
  };
  const shifts: number[] = [];
  for (let r = 0; r < 5; r++) {
    for (const e of await readdir(layerDir))
      if (e.startsWith("idmap-")) await rm(join(layerDir, e), { recursive: true });
    spawnSync("sync");
    const t = process.hrtime.bigint();
    await shiftedLayer(layerDir, map, join(layerDir, "tmp"));
    shifts.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  shifts.sort((a, b) => a - b);
  const l3 = `shifting 5000 files / 100 MB once: median ${shifts[2]!.toFixed(0)} ms (min ${shifts[0]!.toFixed(0)})`;
  console.log(`  ${l3}`);
  results.push(l3);

  console.log("\n== summary ==");
  for (const r of results) console.log(r);
  console.log(`load average at the end: ${load()}`);
}

async function treeSize(root: string): Promise<string> {
  const r = await run("du", ["-sh", join(root, "layers")]);
  return `${r.stdout.split("\t")[0]} of layers`;
}

async function podmanAutoWorks(podRun: string): Promise<boolean> {
  const r = await run("sh", ["-c", `${podRun} --userns=auto busybox:1 true`]);
  return r.code === 0;
}

/** Adds `containers` ranges to /etc/subuid and /etc/subgid for podman, and returns how to put the files back. */
async function podmanSubIds(): Promise<() => Promise<void>> {
  const saved: [string, string | undefined][] = [];
  for (const f of ["/etc/subuid", "/etc/subgid"]) {
    const old = existsSync(f) ? await readFile(f, "utf8") : undefined;
    saved.push([f, old]);
    await writeFile(f, `${old ?? ""}containers:1000000000:65536000\n`);
  }
  return async () => {
    for (const [f, old] of saved) {
      if (old === undefined) await rm(f, { force: true });
      else await writeFile(f, old);
    }
  };
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
