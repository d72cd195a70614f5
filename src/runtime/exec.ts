import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Containers } from "./containers.js";
import { DEFAULT_PATH } from "./defaults.js";
import { ContainerConflictError, RuntimeError } from "./errors.js";
import { observe } from "./observe.js";
import type { ExecIO } from "./oci-runtime.js";
import type { RuntimeSpec } from "./oci-spec.js";
import { resolveUserInRoot } from "./process-user.js";
import { mergeEnv } from "./spec.js";
import { derivedSpec, withCwd, withEnv, withProcessArgs, withTerminal, withUser } from "./spec-opts.js";

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
 * `exec`: a process in a running container's namespaces, through the runtime's exec. Its process
 * spec is the container's own (capabilities and the rest of what the container runs with) with
 * the exec's command, environment (the container's, then `-e`), working directory, user
 * (resolved in the container's root) and terminal, by the same spec options. Streams are the
 * caller's: with a tty, hand over the terminal's. Resolves to the exit status; a command that
 * cannot start is 126/127, as Docker's.
 */
export async function execInContainer(
  containers: Containers,
  input: string,
  req: ExecRequest,
  io: Omit<ExecIO, "detach"> = {},
): Promise<number> {
  const rec = containers.find(input);
  const paths = containers.paths(rec.id);
  if (observe(rec, paths).state !== "running")
    throw new ContainerConflictError(`container ${rec.id} is not running`);
  let base: RuntimeSpec;
  try {
    base = JSON.parse(readFileSync(join(paths.bundle, "config.json"), "utf8")) as RuntimeSpec;
  } catch (err) {
    throw new RuntimeError(`reading the spec of container ${rec.id.slice(0, 12)}: ${(err as Error).message}`);
  }
  const user = await resolveUserInRoot(paths.merged, req.user ?? rec.settings.user);
  const spec = derivedSpec(
    base,
    withProcessArgs(req.args),
    // Docker's exec environment: PATH, HOSTNAME and (for -t) TERM=xterm, then the container's
    // Config.Env, then -e (moby's CreateDaemonEnvironment for the exec's own tty).
    withEnv(
      mergeEnv(
        mergeEnv(
          [DEFAULT_PATH, `HOSTNAME=${rec.settings.hostname}`, ...(req.tty ? ["TERM=xterm"] : [])],
          rec.settings.given?.env ?? rec.settings.env,
        ),
        req.env ?? [],
      ),
    ),
    withCwd(req.workdir ?? (rec.settings.workingDir || "/")),
    withUser(user),
    withTerminal(req.tty ?? false),
  );
  return containers.runtime.exec(rec.id, spec.process, {
    stdin: req.interactive || req.tty ? io.stdin : undefined,
    stdout: io.stdout,
    stderr: io.stderr,
    detach: req.detach,
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
    const child = spawn("ps", ["-ef"], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      text += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(text) : reject(new RuntimeError(`ps -ef exited ${code}: ${err.trim()}`)),
    );
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
