import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Containers } from "./containers.js";
import { DEFAULT_PATH } from "./defaults.js";
import { ContainerConflictError } from "./errors.js";
import { observe } from "./observe.js";
import type { RuntimeSpec } from "./oci-spec.js";
import { resolveUserInRoot } from "./process-user.js";
import { runtimeMessage } from "./runc.js";
import { mergeEnv } from "./spec.js";
import { startFailure } from "./start-errors.js";

export interface ExecRequest {
  args: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
  detach?: boolean;
}

/**
 * `exec`: a process in a running container's namespaces, through `runtime exec` in the
 * foreground (our stdio is its stdio; with a tty runc makes the pseudo-terminal). Resolves to
 * its exit status; a command that cannot start is 126/127, as Docker's.
 */
export async function execInContainer(
  containers: Containers,
  input: string,
  req: ExecRequest,
): Promise<number> {
  const rec = containers.find(input);
  const paths = containers.paths(rec.id);
  if (observe(rec, paths).state !== "running")
    throw new ContainerConflictError(`container ${rec.id} is not running`);
  const user = await resolveUserInRoot(paths.merged, req.user ?? rec.settings.user);
  // Docker's exec environment: PATH, HOSTNAME and (for -t) TERM=xterm, then the container's
  // Config.Env, then -e (moby's CreateDaemonEnvironment for the exec's own tty).
  const base = [DEFAULT_PATH, `HOSTNAME=${rec.settings.hostname}`, ...(req.tty ? ["TERM=xterm"] : [])];
  // The whole process is given as a file: runc's --user/--additional-gids flags would add the
  // exec user's groups to those of the container's process (root's) instead of replacing them.
  const container = JSON.parse(readFileSync(join(paths.bundle, "config.json"), "utf8")) as RuntimeSpec;
  const processSpec: RuntimeSpec["process"] = {
    ...container.process,
    terminal: req.tty ?? false,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    args: req.args,
    env: mergeEnv(mergeEnv(base, rec.settings.given?.env ?? rec.settings.env), req.env ?? []),
    cwd: req.workdir ?? (rec.settings.workingDir || "/"),
  };
  const processFile = join(paths.bundle, `exec-${randomBytes(6).toString("hex")}.json`);
  writeFileSync(processFile, JSON.stringify(processSpec));
  const args = [`--root=${containers.runtime.stateRoot}`, "exec", "--process", processFile];
  if (req.detach) args.push("--detach");
  args.push(rec.id);
  const removeProcessFile = () => rmSync(processFile, { force: true });
  return new Promise<number>((resolve, reject) => {
    const child = spawn(containers.runtime.path, args, {
      stdio: [req.interactive || req.tty ? "inherit" : "ignore", "inherit", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      const text = d.toString();
      // runc's own errors are logfmt lines; the process's stderr passes through.
      if (/level=error msg=/.test(text)) stderr += text;
      else process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (stderr) reject(startFailure(runtimeMessage(stderr).replace(/^exec failed: /, ""), "exec"));
      else resolve(code ?? 128 + (signal ? 15 : 0));
    });
  }).finally(removeProcessFile);
}

/** `top`: the host's `ps -ef` rows of the container's processes. */
export async function containerTop(
  containers: Containers,
  input: string,
): Promise<{ titles: string[]; processes: string[][] }> {
  const rec = containers.find(input);
  if (observe(rec, containers.paths(rec.id)).state !== "running")
    throw new ContainerConflictError(`container ${rec.id} is not running`);
  const pids = new Set((await containers.runtime.ps(rec.id)).map(String));
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn("ps", ["-ef"], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => {
      text += d.toString();
    });
    child.on("error", reject);
    child.on("close", () => resolve(text));
  });
  const lines = out.trimEnd().split("\n");
  const titles = lines[0]!.trim().split(/\s+/);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(fields[1]!)) continue;
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(" ")]);
  }
  return { titles, processes };
}
