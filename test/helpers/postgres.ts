import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, onTeardown, run, runOk, type Started, start } from "./processes.js";

const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface Postgres {
  /** postgres://postgres@127.0.0.1:PORT/berth */
  url: string;
  /** SIGKILL the postmaster, as a crash would (its backends then drop their connections). */
  kill(): Promise<void>;
  /** Start it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stop for good and remove the data directory. */
  down(): Promise<void>;
}

/**
 * PostgreSQL 15 alone, for one test file: initdb as the `postgres` user in a directory of its
 * own, its own socket directory and a random loopback port, fsync off (as scripts/cluster.sh
 * starts it, without Ceph and the replicas). Needs root.
 */
export async function startPostgres(): Promise<Postgres> {
  // Not a tempDir(): those are removed by an after hook that may run before the file's own.
  // processes.ts removes it should the file end any other way (after killing the server's group).
  const dir = await mkdtemp(join(tmpdir(), "berth-pg-"));
  const removeDir = onTeardown(["rm", "-rf", dir]);
  await chmod(dir, 0o711);
  await mkdir(join(dir, "socket"));
  await runOk("chown", ["-R", "postgres", dir]);
  await runOk("runuser", [
    "-u",
    "postgres",
    "--",
    join(PG_BIN, "initdb"),
    "-D",
    join(dir, "data"),
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
  ]);
  const port = await freePort();
  let proc: Started | undefined;
  let stopped = false;

  const launch = async () => {
    // A postmaster killed with SIGKILL leaves its lock file; PostgreSQL refuses to start over it.
    await rm(join(dir, "data", "postmaster.pid"), { force: true });
    // Its own process group (as every process started through processes.ts), so that everything
    // it starts can be stopped together, whatever ends the test file.
    const child = start("runuser", [
      "-u",
      "postgres",
      "--",
      join(PG_BIN, "postgres"),
      "-D",
      join(dir, "data"),
      "-k",
      join(dir, "socket"),
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ]);
    proc = child;
    // Generous: initdb and the first start are slow on a loaded machine.
    const deadline = Date.now() + 60_000;
    while (
      (await run(join(PG_BIN, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port)])).code !== 0
    ) {
      if (child.proc.exitCode !== null || Date.now() > deadline) {
        killGroup(child);
        throw new Error(`PostgreSQL did not start:\n${child.logs()}`);
      }
      await sleep(100);
    }
  };

  /** Signals the whole process group, then waits until none of it is left (SIGKILL after 15 s). */
  const stopGroup = async (signal: NodeJS.Signals) => {
    const child = proc;
    if (!child) return;
    killGroup(child, signal);
    const deadline = Date.now() + 15_000;
    while (groupAlive(child) && Date.now() < deadline + 15_000) {
      if (Date.now() > deadline) killGroup(child, "SIGKILL");
      await sleep(50);
    }
  };

  await launch();
  await runOk(join(PG_BIN, "psql"), [
    "-q",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-U",
    "postgres",
    "-c",
    "CREATE DATABASE berth",
  ]);
  const pg: Postgres = {
    url: `postgres://postgres@127.0.0.1:${port}/berth`,
    kill: async () => {
      const postmaster = Number((await readFile(join(dir, "data", "postmaster.pid"), "utf8")).split("\n")[0]);
      if (Number.isInteger(postmaster) && postmaster > 0) process.kill(postmaster, "SIGKILL");
      // Its backends notice and exit by themselves; what is left after a while is killed too.
      await sleep(500);
      await stopGroup("SIGKILL");
    },
    start: launch,
    down: async () => {
      if (stopped) return;
      stopped = true;
      await stopGroup("SIGINT");
      await removeDir.run();
    },
  };
  return pg;
}

function groupAlive(child: Started): boolean {
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(child: Started, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
