import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { repoRoot } from "./fixtures.js";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program without a shell and collects its output; the child is exposed for tests that
 * signal it. A program may stop reading its input early (tar ends before its padding): an
 * EPIPE on stdin is not an error here.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {},
): Promise<RunResult> & { child: ChildProcessWithoutNullStreams } {
  const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
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
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Server {
  url: string;
  /** "127.0.0.1:PORT" */
  host: string;
  root: string;
  proc: ChildProcess;
  logs(): string;
  /** SIGTERM (or the given signal) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
/** Kills what is still running and removes the temporary directories made so far. */
export async function cleanup(): Promise<void> {
  for (const proc of live) proc.kill("SIGKILL");
  for (const fn of cleanups.splice(0)) await fn().catch(() => {});
}

// Under the test runner, clean up after each file; benchmarks import this too and call cleanup().
if (process.env.NODE_TEST_CONTEXT) after(cleanup);
process.on("exit", () => {
  for (const proc of live) proc.kill("SIGKILL");
});

function track(proc: ChildProcess): { logs(): string; exited: Promise<number | null> } {
  let output = "";
  proc.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  live.add(proc);
  const exited = new Promise<number | null>((resolve) => {
    proc.on("exit", (code) => {
      live.delete(proc);
      resolve(code);
    });
  });
  return { logs: () => output, exited };
}

function serverHandle(proc: ChildProcess, host: string, root: string, t: ReturnType<typeof track>): Server {
  return {
    url: `http://${host}`,
    host,
    root,
    proc,
    logs: t.logs,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      // Once signalled (by a test), wait: a second signal could land while the process exits.
      if (!proc.killed && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return t.exited;
    },
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await t.exited;
    },
  };
}

/** Starts Berth's registry on a free loopback port, waiting for its "listening" log line. */
export async function startBerthRegistry(
  opts: { config?: object; root?: string; extraArgs?: string[] } = {},
): Promise<Server> {
  const root = opts.root ?? (await tempDir("berth-registry-"));
  const args = [
    join(repoRoot(), "bin/berth.js"),
    "registry",
    "serve",
    "--addr",
    "127.0.0.1:0",
    "--root",
    root,
  ];
  if (opts.config) {
    const file = join(await tempDir("berth-config-"), "config.json");
    await writeFile(file, JSON.stringify(opts.config));
    args.push("--config", file);
  }
  args.push(...(opts.extraArgs ?? []));
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const t = track(proc);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const m = /"addr":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"listening"/.exec(t.logs());
    if (m) return serverHandle(proc, m[1]!, root, t);
    if (proc.exitCode !== null) break;
    await sleep(25);
  }
  proc.kill("SIGKILL");
  throw new Error(`berth registry did not start:\n${t.logs()}`);
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
  const proc = spawn("docker-registry", ["serve", file], { stdio: ["ignore", "pipe", "pipe"] });
  const t = track(proc);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const status = opts.tls
        ? await httpsStatus(`https://${host}/v2/`)
        : await httpStatus(`http://${host}/v2/`);
      if (status === 200 || status === 401) return serverHandle(proc, host, root, t);
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) break;
    await sleep(50);
  }
  proc.kill("SIGKILL");
  throw new Error(`docker-registry did not start:\n${t.logs()}`);
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
