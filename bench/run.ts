/**
 * Runtime benchmark, in one run (hyperfine):
 *   - `berth run --rm busybox:1 true` vs `podman run --rm` (overlay storage, the same runc) vs a
 *     bare `runc run` of a prepared bundle whose overlay rootfs is mounted; with the default
 *     network and with `--network none`
 *   - whether a detached container costs a Node process while it runs (it should be conmon only)
 *   - `berth ps -a` with 100 containers
 *
 *   npm run build && node dist/bench/run.js [--runs 20]
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fixtureDir, repoRoot } from "../test/helpers/fixtures.js";
import { cleanup, run, runOk, tempDir } from "../test/helpers/processes.js";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "20" } } });
const RUNS = args.runs!;

// As in bench/client.ts: this machine sets NODE_EXTRA_CA_CERTS (30-50 ms per Node start); the
// runtime never uses TLS, so the children run without it.
delete process.env.NODE_EXTRA_CA_CERTS;
const berthBin = join(repoRoot(), "bin/berth.js");

interface Result {
  command: string;
  mean: number;
  stddev: number;
}

async function hyperfine(commands: Record<string, string>, runs = RUNS): Promise<Record<string, Result>> {
  const dir = await tempDir("berth-bench-");
  const json = join(dir, "out.json");
  const argv = ["--warmup", "3", "--runs", runs, "--export-json", json, "--style", "basic"];
  for (const [name, cmd] of Object.entries(commands)) argv.push("--command-name", name, cmd);
  const r = await run("hyperfine", argv);
  if (r.code !== 0) throw new Error(`hyperfine failed:\n${r.stdout}\n${r.stderr}`);
  process.stdout.write(r.stdout);
  const out = JSON.parse(await readFile(json, "utf8")) as { results: (Result & { command: string })[] };
  return Object.fromEntries(out.results.map((x) => [x.command, x]));
}

const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

async function main(): Promise<void> {
  const root = await tempDir("berth-bench-store-");
  const berth = `node ${berthBin} --root ${root}`;
  await runOk("node", [berthBin, "--root", root, "load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);

  const podRoot = await tempDir("berth-bench-podman-");
  const podman = `podman --root ${podRoot}/root --runroot ${podRoot}/run --storage-driver overlay --runtime runc --cgroup-manager cgroupfs --events-backend none`;
  await runOk("sh", ["-c", `${podman} load -q -i ${join(fixtureDir(), "busybox.tar")}`]);
  const podRun = `${podman} run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024`;

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
  try {
    await runOk("runc", ["spec", "--bundle", `${bare}/bundle`]);
    const spec = JSON.parse(await readFile(join(bare, "bundle/config.json"), "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["true"];
    spec.root = { path: `${bare}/merged`, readonly: false };
    spec.linux.namespaces.push({ type: "cgroup" });
    await writeFile(join(bare, "bundle/config.json"), JSON.stringify(spec));
    const runcRun = `runc --root ${bare}/state run --bundle ${bare}/bundle bench-$$`;

    console.log("\n== run --rm busybox true (default network: berth slirp4netns, podman its default) ==");
    const def = await hyperfine({
      berth: `${berth} run --rm busybox:1 true`,
      podman: `${podRun} busybox:1 true`,
      "runc run": runcRun,
    });
    console.log("\n== run --rm --network none busybox true ==");
    const none = await hyperfine({
      berth: `${berth} run --rm --network none busybox:1 true`,
      podman: `${podRun} --network none busybox:1 true`,
      "runc run": runcRun,
    });
    for (const [label, r] of [
      ["default network", def],
      ["--network none", none],
    ] as const) {
      console.log(
        `${label}: berth ${ms(r.berth!.mean)}, podman ${ms(r.podman!.mean)}, runc ${ms(r["runc run"]!.mean)}; ` +
          `podman/berth ${(r.podman!.mean / r.berth!.mean).toFixed(2)}x (target >= 2), berth/runc ${(r.berth!.mean / r["runc run"]!.mean).toFixed(2)}x (target <= 3)`,
      );
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
  await runOk("node", [berthBin, "--root", root, "rm", "-f", id]);

  console.log("\n== ps -a with 100 containers ==");
  for (let i = 0; i < 100; i += 10)
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        runOk("node", [berthBin, "--root", root, "create", "--name", `c${i + j}`, "busybox:1", "true"]),
      ),
    );
  const psr = await hyperfine({
    "berth ps -a": `${berth} ps -a`,
    "berth --version (Node start)": `${berth} --version`,
    "podman ps -a (no containers)": `${podman} ps -a`,
  });
  console.log(`berth ps -a with 100 containers: ${ms(psr["berth ps -a"]!.mean)} (target < 150 ms)`);
  await runOk("sh", ["-c", `${berth} rm $(${berth} ps -aq)`]);
}

try {
  await main();
} finally {
  await cleanup();
}
