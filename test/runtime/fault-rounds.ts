import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BERTH_BIN } from "../client/berth.js";
import { tempDir } from "../helpers/processes.js";
import { alive, berth, berthOk, inspect, mountsUnder, storeWithFixtures, waitFor } from "./helpers.js";

/*
 * The fault rounds: kill -9 of conmon, of runc during create, and of the CLI in the middle of
 * `run -d`, `start`, `stop`, `rm -f`, `commit` and `cp`, ROUNDS times each (10 by default), at
 * moments spread over the operation's usual length. After each, `ps -a` tells the truth, `rm -f`
 * works, and nothing is left: no mount, no cgroup directory (of every hierarchy), no network
 * namespace, no slirp4netns or conmon process, no file in the store's tmp.
 */

export const ROUNDS = Number(process.env.BERTH_FAULT_ROUNDS ?? 10);

/** Every cgroup directory runc may make for a container: each hierarchy of ours, named ones and the unified one too. */
export function allCgroupDirs(id: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").trim().split("\n")) {
    const [, controllers = "", path = "/"] = line.split(":");
    const dir = controllers === "" ? "unified" : controllers.replace(/^name=/, "");
    out.push(join("/sys/fs/cgroup", dir, path, `berth-${id}`));
  }
  return out;
}

/** Processes whose command line names the container (conmon, its exit command) or its network namespace (slirp4netns). */
export function processesOf(id: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(id) && alive(Number(pid))) out.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {}
  }
  return out;
}

export function leftoversOf(root: string, id: string): string[] {
  const out: string[] = [];
  out.push(...mountsUnder(join(root, "containers", id)).map((m) => `mount ${m}`));
  out.push(
    ...allCgroupDirs(id)
      .filter((d) => existsSync(d))
      .map((d) => `cgroup ${d}`),
  );
  if (existsSync(`/run/netns/berth-${id}`)) out.push("netns");
  out.push(...processesOf(id).map((p) => `process ${p}`));
  if (existsSync(join(root, "containers", id))) out.push("directory");
  if (existsSync(join(root, "runc", id))) out.push("runtime state");
  return out;
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Starts berth and SIGKILLs it after `ms`; resolves once it is gone. */
export async function killDuring(root: string, args: string[], ms: number): Promise<void> {
  const child = spawn(process.execPath, [BERTH_BIN, "--root", root, ...args], { stdio: "ignore" });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  await Promise.race([sleep(ms), exited]);
  child.kill("SIGKILL");
  await exited;
}

/** Moments spread over [0, span): one per round, each in its own slice, jittered. */
export function moments(span: number): number[] {
  return Array.from({ length: ROUNDS }, (_, i) => Math.round(((i + Math.random()) / ROUNDS) * span));
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = Date.now();
  await fn();
  return Date.now() - t;
}

export interface FaultRounds {
  /** The store, with the fixture images loaded (set in the before hook). */
  root: string;
  /** Scratch space for the tests' files. */
  dir: string;
  verify(name: string, what: string): Promise<void>;
}

/**
 * Registers the store's setup and teardown in the calling describe and returns what its tests
 * use; verify() is what must hold after a round.
 */
export function faultRounds(): FaultRounds {
  const f = { root: "", dir: "" } as FaultRounds;
  before(async () => {
    f.root = await storeWithFixtures();
    f.dir = await tempDir("berth-faults-");
  });
  after(async () => {
    const ids = (await berth(f.root, ["ps", "-aq"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await berth(f.root, ["rm", "-f", ...ids]);
  });

  /**
   * What must hold after a round: ps agrees with the processes (Up exactly when the container's
   * process runs and has been let go), rm -f works, nothing is left, and the store's tmp is empty.
   */
  async function verify(name: string, what: string): Promise<void> {
    const root = f.root;
    const r = await berth(root, ["inspect", name]);
    if (r.code === 0) {
      const c = await inspect(root, name);
      const id = c.Id as string;
      const status = (
        await berthOk(root, ["ps", "-a", "--filter", `id=${id}`, "--format", "{{.Status}}"])
      ).stdout.trim();
      const pid = c.State.Pid as number;
      const heldAtStart = existsSync(join(root, "runc", id, "exec.fifo"));
      if (/^Up /.test(status))
        assert.ok(pid > 0 && alive(pid) && !heldAtStart, `${what}: ps says ${status}, the process must run`);
      else {
        const procs = allCgroupDirs(id).flatMap((d) => {
          try {
            return readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
          } catch {
            return [];
          }
        });
        // What may be there: runc's init, held before the command (a create whose start never came).
        const running = procs.filter((p) => !/^runc:\[/.test(comm(Number(p))));
        assert.deepEqual(running, [], `${what}: ps says ${status || "nothing"}, no process of it may run`);
      }
      const rmf = await berth(root, ["rm", "-f", name]);
      assert.equal(rmf.code, 0, `${what}: rm -f: ${rmf.stderr}`);
      await waitFor(
        `${what}: everything of ${id} gone`,
        () => leftoversOf(root, id).length === 0,
        10_000,
      ).catch(() => assert.deepEqual(leftoversOf(root, id), [], what));
    }
    await berthOk(root, ["ps", "-a"]); // opens the store: what dead processes left in tmp/ is swept
    const tmp = join(root, "tmp");
    const left = existsSync(tmp) ? readdirSync(tmp) : [];
    assert.deepEqual(left, [], `${what}: the store's tmp`);
  }
  f.verify = verify;
  return f;
}
