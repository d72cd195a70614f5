/**
 * Start-up benchmark (issue 21): how long the commands a user runs most take, and where the time
 * goes, for the CLI as bin/berth.js runs it (the esbuild bundle with its code cache) and as tsc
 * compiles it (BERTH_BUNDLE=0), each with and without NODE_EXTRA_CA_CERTS:
 *   - `node -e 0` (Node's own start) and `berth --version`
 *   - `berth images` with 100 images, `berth ps -a` with 100 containers
 *   - `berth run --rm busybox:1 true`, with `--network none` and with the default network
 *   - a fully cached `berth build` of bench/build.ts's context
 *
 *   npm run build && node dist/bench/startup.js [--rounds 10] [--only images,ps] [--profile]
 *
 * Each round runs every (command, build, CA setting) once, in an order that rotates from round
 * to round (the machine may be shared: blocks of one peer would compare different loads); two
 * warm-up rounds are discarded. Wall time is spawn to exit; CPU is the user + system time of the
 * waited-for process (clock ticks of 10 ms, so a mean). "Where it goes" comes from the
 * launcher's BERTH_DEBUG_START timings (Node's bootstrap, loading/compiling, evaluating the
 * modules, the command) as medians, and with --profile from one `--cpu-prof` run of each
 * command, its samples put into Node's module loader, compilation and other V8 work, garbage
 * collection, Berth's code and its dependencies.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fixtureDir, repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, runOk, startBerthRegistry, tempDir } from "../test/helpers/processes.js";
import { makeContext } from "./build-context.js";
import { seedMany } from "./many-images.js";
import { median } from "./measure.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "10" },
    only: { type: "string" },
    profile: { type: "boolean", default: false },
  },
});
const ROUNDS = Number(args.rounds);
const berthBin = join(repoRoot(), "bin/berth.js");
// This machine sets it; elsewhere the system bundle stands in for a corporate CA file.
const caFile = process.env.NODE_EXTRA_CA_CERTS || "/etc/ssl/certs/ca-certificates.crt";
delete process.env.NODE_EXTRA_CA_CERTS;

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

/** CPU ms of the waited-for children of this process so far (/proc/self/stat cutime + cstime). */
function childrenCpu(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

interface Sample {
  ms: number;
  cpu: number;
  /** The launcher's phases (BERTH_DEBUG_START), when it printed them. */
  phases?: Record<string, number>;
}

function once(argv: string[], env: NodeJS.ProcessEnv): Sample {
  const cpu = childrenCpu();
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr.toString()}`);
  const m = /berth: ms (.*)/.exec(r.stderr.toString());
  const phases = m
    ? Object.fromEntries(
        m[1]!.split(", ").map((p) => {
          const [name, value] = p.split(" ");
          return [name!, Number(value)];
        }),
      )
    : undefined;
  return { ms, cpu: childrenCpu() - cpu, phases };
}

interface Case {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

async function main(): Promise<void> {
  console.log(`rounds: ${ROUNDS} (+2 warm-up); load average at start: ${load()}`);
  const work = await tempDir("berth-bench-startup-");
  const berth = (root: string, ...a: string[]) => [process.execPath, berthBin, "--root", root, ...a];

  // 100 distinct images, pulled from a Berth registry.
  const registry = await startBerthRegistry();
  const imagesRoot = join(work, "images");
  try {
    await seedMany(registry.host);
    await runOk(process.execPath, [
      berthBin,
      "--root",
      imagesRoot,
      "pull",
      "-q",
      "-a",
      `${registry.host}/bench/many`,
    ]);
  } finally {
    await registry.stop();
  }
  // 100 created containers; a store for run --rm; the build's context, built once.
  const psRoot = join(work, "ps");
  const runRoot = join(work, "run");
  const buildRoot = join(work, "build");
  for (const root of [psRoot, runRoot, buildRoot])
    await runOk(process.execPath, [
      berthBin,
      "--root",
      root,
      "load",
      "-q",
      "-i",
      join(fixtureDir(), "busybox.tar"),
    ]);
  for (let i = 0; i < 100; i += 5)
    await Promise.all(
      Array.from({ length: 5 }, (_, j) =>
        runOk(process.execPath, [
          berthBin,
          "--root",
          psRoot,
          "create",
          "--name",
          `c${i + j}`,
          "busybox:1",
          "true",
        ]),
      ),
    );
  const ctx = join(work, "ctx");
  await makeContext(ctx);
  await runOk(process.execPath, [berthBin, "--root", buildRoot, "build", "-q", "-t", "bench:1", ctx]);

  const commands: Record<string, (debug: boolean) => string[]> = {
    version: () => [process.execPath, berthBin, "--version"],
    images: () => berth(imagesRoot, "images"),
    ps: () => berth(psRoot, "ps", "-a"),
    "run-none": () => berth(runRoot, "run", "--rm", "--network", "none", "busybox:1", "true"),
    run: () => berth(runRoot, "run", "--rm", "busybox:1", "true"),
    build: () => berth(buildRoot, "build", "-q", "-t", "bench:1", ctx),
  };
  const only = args.only?.split(",");
  const cases: Case[] = [];
  for (const ca of [false, true]) {
    const caEnv = ca ? { NODE_EXTRA_CA_CERTS: caFile } : {};
    const tag = ca ? " +CA" : "";
    cases.push({ name: `node -e 0${tag}`, argv: [process.execPath, "-e", "0"], env: caEnv });
    for (const [name, argv] of Object.entries(commands)) {
      if (only && !only.includes(name)) continue;
      for (const build of ["bundle", "tsc"] as const)
        cases.push({
          name: `${name} [${build}]${tag}`,
          argv: argv(true),
          env: { ...caEnv, BERTH_BUNDLE: build === "bundle" ? "1" : "0", BERTH_DEBUG_START: "1" },
        });
    }
  }

  const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
  const before = load();
  for (let r = 0; r < ROUNDS + 2; r++)
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(r + k) % cases.length]!;
      const s = once(c.argv, c.env);
      if (r >= 2) samples.get(c.name)!.push(s);
    }
  const after = load();

  console.log("\n| case | wall median (ms) | IQR | CPU mean (ms) | where the wall time goes (medians, ms) |");
  console.log("| --- | ---: | --- | ---: | --- |");
  for (const c of cases) {
    const s = samples.get(c.name)!;
    const ms = s.map((x) => x.ms).sort((a, b) => a - b);
    const q = (p: number) => ms[Math.round((ms.length - 1) * p)]!;
    const cpu = s.reduce((a, x) => a + x.cpu, 0) / s.length;
    const names = Object.keys(s[0]?.phases ?? {});
    const phases = names.map((n) => `${n} ${median(s.map((x) => x.phases?.[n] ?? 0)).toFixed(1)}`).join(", ");
    console.log(
      `| ${c.name} | ${median(ms).toFixed(1)} | ${q(0.25).toFixed(1)}–${q(0.75).toFixed(1)} | ${cpu.toFixed(0)} | ${phases} |`,
    );
  }
  const med = (name: string) => median(samples.get(name)!.map((x) => x.ms));
  console.log(`\nload average before: ${before}; after: ${after}`);
  for (const tag of ["", " +CA"]) {
    const node = med(`node -e 0${tag}`);
    const lines = [
      `berth --version - node -e 0: ${(med(`version [bundle]${tag}`) - node).toFixed(1)} ms (target <= 15)`,
    ];
    for (const n of ["images", "ps"])
      if (samples.has(`${n} [bundle]${tag}`))
        lines.push(`${n}: ${med(`${n} [bundle]${tag}`).toFixed(1)} ms (target <= 70)`);
    for (const n of Object.keys(commands))
      if (samples.has(`${n} [bundle]${tag}`))
        lines.push(
          `${n}: tsc output / bundle ${(med(`${n} [tsc]${tag}`) / med(`${n} [bundle]${tag}`)).toFixed(2)}x`,
        );
    console.log(`${tag ? "with" : "without"} NODE_EXTRA_CA_CERTS:\n  ${lines.join("\n  ")}`);
  }

  if (args.profile) {
    console.log("\n== --cpu-prof of one run each (bundle, no CA file): self time by kind, ms ==");
    for (const [name, argv] of Object.entries(commands)) {
      if (only && !only.includes(name)) continue;
      const dir = await tempDir("berth-bench-prof-");
      const a = argv(false);
      once([a[0]!, "--cpu-prof", `--cpu-prof-dir=${dir}`, ...a.slice(1)], { BERTH_BUNDLE: "1" });
      const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!;
      console.log(`  ${name.padEnd(9)} ${profileSummary(join(dir, file))}`);
    }
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** A CPU profile's self time by kind: where a start's CPU goes. */
function profileSummary(file: string): string {
  const p = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const kind = new Map<number, string>();
  for (const n of p.nodes) {
    const { functionName: fn, url } = n.callFrame;
    kind.set(
      n.id,
      fn === "(garbage collector)"
        ? "gc"
        : fn === "(program)"
          ? "v8 (compile, parse, native)"
          : fn === "(idle)"
            ? "idle (waiting)"
            : url.startsWith("node:internal/modules") ||
                url.startsWith("node:internal/bootstrap") ||
                url === "node:vm" ||
                fn === "compileFunction"
              ? "module loading"
              : url.includes("/node_modules/")
                ? "dependencies"
                : url.includes("/dist/")
                  ? "berth"
                  : url.startsWith("node:")
                    ? "node's library"
                    : "native calls",
    );
  }
  const totals = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const k = kind.get(id)!;
    totals.set(k, (totals.get(k) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(", ");
}

try {
  await main();
} finally {
  await cleanup();
}
