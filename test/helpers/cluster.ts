import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./fixtures.js";
import { onTeardown, run, runOk } from "./processes.js";

export interface Cluster {
  dir: string;
  /** "http://127.0.0.1:PORT" of haproxy, or undefined with no replicas. */
  url?: string;
  replicas: { url: string; pid: number }[];
  env: Record<string, string>;
  configFile: string;
  /** SIGKILL one part (postgres, radosgw, replica-K) and start it again, as scripts/cluster.sh does. */
  kill(part: string): Promise<void>;
  start(part: string): Promise<void>;
  down(): Promise<void>;
}

const script = () => join(repoRoot(), "scripts/cluster.sh");

/**
 * Brings up scripts/cluster.sh once for the calling test file, which takes it down in its `after`.
 * Should the file end any other way (a timeout, a signal, a crash), processes.ts runs the same
 * `cluster.sh down` on its way out: the parts run in sessions of their own, out of reach of a
 * process-group kill. That teardown is registered before `up` starts a single part.
 */
export async function startCluster(replicas: number): Promise<Cluster> {
  // Not a tempDir(): those are removed by an after hook that may run before ours, and the pid
  // files `down` needs are in here.
  const dir = await mkdtemp(join(tmpdir(), "berth-cluster-"));
  const teardown = onTeardown(["sh", "-c", 'bash "$0" down "$1"; rm -rf "$1"', script(), dir]);
  let up: Awaited<ReturnType<typeof run>> | undefined;
  const failures: string[] = [];
  // Ceph on a loaded machine fails to come up now and then; a second try from scratch is cheap.
  for (let attempt = 1; !up; attempt++) {
    try {
      up = await runOk("bash", [script(), "up", dir, "--replicas", String(replicas)]);
    } catch (err) {
      failures.push(`attempt ${attempt}: ${(err as Error).message.trim()}\n${await daemonLogs(dir)}`);
      await run("bash", [script(), "down", dir]);
      await rm(dir, { recursive: true, force: true });
      if (attempt === 2) {
        await teardown.run();
        throw new Error(`the cluster did not come up:\n${failures.join("\n")}`);
      }
      await mkdir(dir);
    }
  }
  const cluster: Cluster = {
    dir,
    replicas: [],
    env: {},
    configFile: join(dir, "config.yaml"),
    kill: async (part) => {
      await runOk("bash", [script(), "kill", dir, part]);
    },
    start: async (part) => {
      await runOk("bash", [script(), "start", dir, part]);
    },
    down: async () => {
      await teardown.run();
    },
  };
  for (const line of up.stdout.split("\n")) {
    const registry = /^registry=(\S+)$/.exec(line);
    if (registry) cluster.url = `http://${registry[1]}`;
    const replica = /^replica=(\S+) pid=(\d+)$/.exec(line);
    if (replica) cluster.replicas.push({ url: `http://${replica[1]}`, pid: Number(replica[2]) });
  }
  for (const line of (await readFile(join(dir, "s3.env"), "utf8")).split("\n")) {
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m) cluster.env[m[1]!] = m[2]!;
  }
  return cluster;
}

/** The last lines of what the cluster's daemons wrote, to tell why a start failed. */
async function daemonLogs(dir: string): Promise<string> {
  const out: string[] = [];
  const logDir = join(dir, "ceph/log");
  for (const name of await readdir(logDir).catch(() => [] as string[])) {
    if (!name.endsWith(".out")) continue;
    const lines = (await readFile(join(logDir, name), "utf8").catch(() => "")).trim().split("\n");
    out.push(`--- ${name}`, ...lines.slice(-8));
  }
  return out.join("\n");
}
