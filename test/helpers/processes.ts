/**
 * Every process a test starts goes through this module, so that none outlives its test file,
 * whatever the outcome (pass, fail, uncaught error, cancellation, the runner's --test-timeout, a
 * SIGTERM/SIGINT from the runner or the terminal, even SIGKILL). Never spawn with
 * node:child_process directly in a test: use these.
 *
 *   run(cmd, args, { env?, input?, cwd? })    runs to the end and collects the output:
 *                                             Promise<RunResult> & { child } (code, stdout, stderr)
 *   runOk(cmd, args, opts)                    the same; rejects with the output unless it exits 0
 *   start(cmd, args, { env?, cwd?, stdin? })  a long-running process (a server, a pull to be killed):
 *                                             Started { proc, pid, logs(), exited, stop(signal?), kill() }
 *   startBerthRegistry(opts), startDistribution(opts)
 *                                             Berth's registry / docker-registry on a free loopback port,
 *                                             ready when returned: Server = Started & { url, host, root }
 *   tempDir(prefix)                           a new directory under the system's tmp, removed after the file
 *   containerRoot(root)                       a Berth store whose containers are removed (`berth rm -f`)
 *                                             after the file (client/berth.ts's tempRoot() calls it)
 *   onTeardown(argv)                          a command that undoes what lives outside our process groups
 *                                             (`scripts/cluster.sh down DIR`, `runc delete --force ID`);
 *                                             Teardown { run() } runs it now; else it runs after the file
 *   freePort(), skopeo(args), waitFor(what, fn, ms?)
 *   cleanup()                                 what the `after` hook runs (benchmarks call it themselves)
 *
 * How: every child is spawned detached, so it leads a process group of its own, and is registered
 * until it exits (whatever it leaves in its group is then killed). The registry is torn down —
 * groups SIGKILLed, any process still below this one killed, teardown commands run and temporary
 * directories removed, newest first —
 *   1. by the file's `after` hook, once its tests are done (`describe`-level `after` hooks run first:
 *      a test that stops its own server or removes its containers there keeps doing so);
 *   2. synchronously on process `exit` and on SIGTERM, SIGINT and SIGHUP (the runner sends SIGTERM
 *      to a file that times out or is cancelled), after which the process exits 128+signal;
 *   3. by a watchdog (reaper.ts), started with the first registration in its own session, which
 *      notices through a pipe when this process is gone without doing 1 or 2 (SIGKILL, OOM).
 *
 * Notes for new tests:
 *   - A command that leaves a daemon behind on purpose must put it in a session of its own
 *     (setsid) before it exits, and the test registers the daemon's teardown with onTeardown():
 *     the command's group is killed as it exits (see start_bg in scripts/cluster.sh).
 *   - execFileSync/spawnSync of a short tool is fine: it ends before the call returns (and
 *     should the file be killed meanwhile, the kill of every process below it takes the tool).
 *   - start() gives proc.stdin only with { stdin: true }. Children do not inherit NODE_TEST_CONTEXT,
 *     so a `node --test` a test starts is a runner of its own.
 *   - BERTH_TEST_REAPER=0 turns the watchdog off (processes.test.ts, to show 1 and 2 suffice).
 */
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { createServer, type Socket } from "node:net";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { repoRoot } from "./fixtures.js";
import { descendants, type Entry, killGroup, mountsUnder, teardownSync } from "./teardown.js";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  proc: ChildProcessWithoutNullStreams;
  pid: number;
  /** stdout and stderr so far, interleaved as they came. */
  logs(): string;
  /** The exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** SIGTERM (or the given signal) to the process, once; waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, as a crash would; waits for the exit. */
  kill(): Promise<void>;
}

export interface Server extends Started {
  url: string;
  /** "127.0.0.1:PORT" */
  host: string;
  root: string;
}

export interface Teardown {
  /** Runs the command now (once), unless it ran already; resolves to its result. */
  run(): Promise<RunResult | undefined>;
}

// ---- the registry of what this file started -----------------------------------------------------

const entries = new Map<number, Entry>();
let nextId = 1;
let reaper: ChildProcess | undefined;
const registryFile = join(tmpdir(), `berth-test-${process.pid}-${randomBytes(4).toString("hex")}.json`);

// processes.test.ts turns the watchdog off to show that the in-process hooks alone suffice.
const withReaper = process.env.BERTH_TEST_REAPER !== "0";

function persist(): void {
  if (!withReaper) return;
  if (!reaper) {
    if (entries.size === 0) return;
    startReaper();
  }
  writeFileSync(`${registryFile}.tmp`, JSON.stringify([...entries]));
  renameSync(`${registryFile}.tmp`, registryFile);
}

function register(entry: Entry): number {
  const id = nextId++;
  entries.set(id, entry);
  persist();
  return id;
}

function unregister(id: number): void {
  if (entries.delete(id)) persist();
}

function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  // A node:test child's marker: a `node --test` a test starts must be a runner of its own.
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function startReaper(): void {
  const script = join(dirname(fileURLToPath(import.meta.url)), "reaper.js");
  reaper = spawn(process.execPath, [script, registryFile], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
    env: childEnv(),
  });
  reaper.unref();
  reaper.stdin!.on("error", () => {});
  (reaper.stdin as Socket).unref();
}

/** Spawns detached (a process group of its own) and keeps the group registered until the child exits. */
function spawnTracked(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin: boolean },
): ChildProcessWithoutNullStreams {
  const child = spawn(cmd, args, {
    env: childEnv(opts.env),
    cwd: opts.cwd,
    detached: true,
    stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
  }) as ChildProcessWithoutNullStreams;
  const pgid = child.pid;
  if (pgid === undefined) return child; // could not spawn: its 'error' event follows
  const id = register({ kind: "group", pgid });
  child.on("exit", () => {
    // Whatever the child left in its group (a shell's background job) goes with it.
    killGroup(pgid);
    unregister(id);
  });
  return child;
}

function tearDownNow(): void {
  teardownSync([...entries], {
    self: process.pid,
    spare: reaper?.pid === undefined ? [] : [reaper.pid],
    done: unregister,
  });
  if (entries.size === 0) rmSync(registryFile, { force: true });
}

/** Kills what is still running, runs the teardown commands and removes the temporary directories. */
export async function cleanup(): Promise<void> {
  const list = [...entries];
  for (const [id, e] of list) {
    if (e.kind !== "group") continue;
    killGroup(e.pgid);
    unregister(id);
  }
  // Processes that library code under test started (runc, tar) without these helpers.
  for (const pid of descendants(process.pid)) {
    if (pid === reaper?.pid) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (const [id, e] of list.reverse()) {
    if (!entries.has(id)) continue;
    unregister(id);
    if (e.kind === "command") await runArgv(e.argv).catch(() => {});
    else if (e.kind === "dir") await removeDir(e.path);
  }
}

// Under the test runner, clean up after each file; benchmarks import this too and call cleanup().
if (process.env.NODE_TEST_CONTEXT) after(cleanup);
process.on("exit", tearDownNow);
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.on(signal, () => {
    tearDownNow();
    process.exit(128 + constants.signals[signal]);
  });
}

async function removeDir(dir: string): Promise<void> {
  // A test that failed half-way may leave a container's rootfs mounted in its store.
  for (const m of mountsUnder(dir)) await run("umount", ["-l", m]);
  await rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => {});
}

function runArgv(argv: string[]): Promise<RunResult> {
  return run(argv[0]!, argv.slice(1));
}

// ---- the helpers tests use -----------------------------------------------------------------------

/**
 * Runs a program without a shell and collects its output; the child is exposed for tests that
 * signal it. A program may stop reading its input early (tar ends before its padding): an
 * EPIPE on stdin is not an error here.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string } = {},
): Promise<RunResult> & { child: ChildProcessWithoutNullStreams } {
  const child = spawnTracked(cmd, args, { env: opts.env, cwd: opts.cwd, stdin: true });
  const done = new Promise<RunResult>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  child.stdin.on("error", () => {});
  child.stdin.end(opts.input ?? "");
  return Object.assign(done, { child });
}

export async function runOk(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string } = {},
): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * Starts a long-running process, its output kept for logs(). With `stdin`, proc.stdin is a pipe
 * the test writes to; otherwise the child reads nothing.
 */
export function start(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: boolean } = {},
): Started {
  const proc = spawnTracked(cmd, args, { env: opts.env, cwd: opts.cwd, stdin: opts.stdin ?? false });
  let output = "";
  proc.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stdin?.on("error", () => {});
  const exited = new Promise<number | null>((resolve) => {
    proc.on("exit", (code) => resolve(code));
    proc.on("error", () => resolve(null));
  });
  const running = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    pid: proc.pid ?? -1,
    logs: () => output,
    exited,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      // Once signalled (by a test), wait: a second signal could land while the process exits.
      if (!proc.killed && running()) proc.kill(signal);
      return exited;
    },
    kill: async () => {
      if (running()) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** A command that undoes something a test started outside its process groups; see the top. */
export function onTeardown(argv: string[]): Teardown {
  const id = register({ kind: "command", argv });
  return {
    run: async () => {
      if (!entries.has(id)) return undefined;
      unregister(id);
      return runArgv(argv);
    },
  };
}

const BERTH_BIN = join(repoRoot(), "bin/berth.js");
// Removes every container of store $3 (berth is "$1 $2"); nothing to do for a store that never had one.
const REMOVE_CONTAINERS = `[ -n "$(ls -A "$3/containers" 2>/dev/null)" ] || exit 0
ids=$("$1" "$2" --root "$3" ps -aq --no-trunc) || exit 0
[ -z "$ids" ] || "$1" "$2" --root "$3" rm -f $ids`;

/** Registers a Berth store: its containers are removed with `berth rm -f` after the file. */
export function containerRoot(root: string): Teardown {
  return onTeardown(["sh", "-c", REMOVE_CONTAINERS, "sh", process.execPath, BERTH_BIN, root]);
}

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  register({ kind: "dir", path: dir });
  return dir;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Polls `fn` until it is true, sleeping 25 ms at first and up to 250 ms between tries, so a loaded
 * machine is not loaded more; throws naming `what` after `ms` (generous: this is a hang guard).
 */
export async function waitFor(
  what: string,
  fn: () => Promise<boolean> | boolean,
  ms = 60_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (let pause = 25; ; pause = Math.min(pause * 2, 250)) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(pause);
  }
}

/** Resolves with the first match of `re` in the process's output; rejects if it exits first. */
function outputMatch(p: Started, re: RegExp, ms: number, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = re.exec(p.logs());
      if (m) finish(undefined, m);
    };
    const timer = setTimeout(() => finish(new Error(`${what} did not start within ${ms} ms`)), ms);
    const onExit = () => setImmediate(() => finish(new Error(`${what} exited before it was ready`)));
    const finish = (err?: Error, m?: RegExpExecArray) => {
      clearTimeout(timer);
      p.proc.stdout.off("data", check);
      p.proc.stderr.off("data", check);
      p.proc.off("exit", onExit);
      if (err) reject(new Error(`${err.message}:\n${p.logs()}`));
      else resolve(m!);
    };
    p.proc.stdout.on("data", check);
    p.proc.stderr.on("data", check);
    p.proc.on("exit", onExit);
    check();
  });
}

/** How long a server may take to answer on a machine running other work beside the tests. */
const SERVER_START_MS = 60_000;

/** Starts Berth's registry on a free loopback port, waiting for its "listening" log line. */
export async function startBerthRegistry(
  opts: { config?: object; root?: string; extraArgs?: string[] } = {},
): Promise<Server> {
  const root = opts.root ?? (await tempDir("berth-registry-"));
  const args = [BERTH_BIN, "registry", "serve", "--addr", "127.0.0.1:0", "--root", root];
  if (opts.config) {
    const file = join(await tempDir("berth-config-"), "config.json");
    await writeFile(file, JSON.stringify(opts.config));
    args.push("--config", file);
  }
  args.push(...(opts.extraArgs ?? []));
  const p = start(process.execPath, args);
  try {
    const m = await outputMatch(
      p,
      /"addr":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"listening"/,
      SERVER_START_MS,
      "berth registry",
    );
    return { ...p, url: `http://${m[1]}`, host: m[1]!, root };
  } catch (err) {
    await p.kill();
    throw err;
  }
}

/** Starts Debian's docker-registry (CNCF distribution) on a free loopback port. */
export async function startDistribution(
  opts: { root?: string; extraConfig?: string; tls?: { certificate: string; key: string } } = {},
): Promise<Server> {
  const root = opts.root ?? (await tempDir("distribution-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${root}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    ...(opts.tls ? ["  tls:", `    certificate: ${opts.tls.certificate}`, `    key: ${opts.tls.key}`] : []),
    opts.extraConfig ?? "",
  ].join("\n");
  const file = join(await tempDir("distribution-config-"), "config.yml");
  await writeFile(file, config);
  const p = start("docker-registry", ["serve", file]);
  const answers = async () => {
    if (p.proc.exitCode !== null) throw new Error(`docker-registry exited:\n${p.logs()}`);
    try {
      const status = opts.tls
        ? await httpsStatus(`https://${host}/v2/`)
        : await httpStatus(`http://${host}/v2/`);
      return status === 200 || status === 401;
    } catch {
      return false; // not listening yet
    }
  };
  try {
    await waitFor("docker-registry to answer", answers, SERVER_START_MS);
  } catch (err) {
    await p.kill();
    throw new Error(`docker-registry did not start: ${(err as Error).message}\n${p.logs()}`);
  }
  return { ...p, url: `http://${host}`, host, root };
}

async function httpStatus(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

/** The status of a GET over HTTPS to a test server whose certificate nobody trusts. */
function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

/** skopeo with the policy and TLS settings a loopback test registry needs. */
export function skopeo(args: string[]): Promise<RunResult> {
  const [verb, ...rest] = args;
  const tls =
    verb === "copy" ? ["--src-tls-verify=false", "--dest-tls-verify=false"] : ["--tls-verify=false"];
  return runOk("skopeo", [verb!, ...(verb === "copy" ? ["--insecure-policy"] : []), ...tls, ...rest]);
}
