import { spawn } from "node:child_process";
import type { Containers } from "./containers.js";
import { ContainerConflictError } from "./errors.js";
import { observe } from "./observe.js";
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
  const args = [`--root=${containers.runtime.stateRoot}`, "exec", "--user", `${user.uid}:${user.gid}`];
  for (const g of user.additionalGids) args.push("--additional-gids", String(g));
  args.push("--cwd", req.workdir ?? (rec.settings.workingDir || "/"));
  for (const e of mergeEnv(rec.settings.env, req.env ?? [])) args.push("--env", e);
  if (req.tty) args.push("--tty");
  if (req.detach) args.push("--detach");
  args.push(rec.id, ...req.args);
  return new Promise((resolve, reject) => {
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
  });
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
