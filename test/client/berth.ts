import { join } from "node:path";
import { repoRoot } from "../helpers/fixtures.js";
import { containerRoot, type RunResult as Result, run, tempDir } from "../helpers/processes.js";

export const BERTH_BIN = join(repoRoot(), "bin/berth.js");

/** Runs the berth CLI with a given store root; never through a shell. */
export function berth(
  root: string,
  args: string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
) {
  return run(process.execPath, [BERTH_BIN, "--root", root, ...args], opts);
}

/** Runs berth and throws with its output when it fails. */
export async function berthOk(root: string, args: string[]): Promise<Result> {
  const r = await berth(root, args);
  if (r.code !== 0) throw new Error(`berth ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A fresh local store directory, removed after the test file with every container it holds. */
export async function tempRoot(prefix = "berth-store-"): Promise<string> {
  const root = await tempDir(prefix);
  containerRoot(root);
  return root;
}
