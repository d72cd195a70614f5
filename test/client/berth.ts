import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BERTH_BIN = join(repo, "bin/berth.js");

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the berth CLI with a given store root; never through a shell. */
export function berth(
  root: string,
  args: string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
) {
  const child = spawn(process.execPath, [BERTH_BIN, "--root", root, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  // A command may stop reading its input early (tar ends before its padding): not an error here.
  child.stdin.on("error", () => {});
  child.stdin.end(opts.input ?? "");
  const done = new Promise<Result>((resolvePromise) => {
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
  return Object.assign(done, { child });
}

/** Runs berth and throws with its output when it fails. */
export async function berthOk(root: string, args: string[]): Promise<Result> {
  const r = await berth(root, args);
  if (r.code !== 0) throw new Error(`berth ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export async function tempRoot(prefix = "berth-store-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
