import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { DEFAULT_PATH } from "./defaults.js";
import { RuntimeError } from "./errors.js";
import { makeInitLayer } from "./init-layer.js";
import { createNetns, deleteNetns, hostsFile, resolvConf, SLIRP_ADDRESS, startSlirp } from "./network.js";
import { mountOverlay, unmount } from "./overlay.js";
import { resolveUserInRoot } from "./process-user.js";
import { OciRuntime, runtimeMessage } from "./runc.js";
import { type BindMount, buildSpec, mergeEnv } from "./spec.js";
import { startFailure } from "./start-errors.js";

export interface EphemeralOptions {
  /** Read-only layer directories, topmost first (never written). */
  lowerDirs: string[];
  /** Receives every change the process makes (an empty directory for a fresh layer). */
  upperDir: string;
  /**
   * Scratch space on the same filesystem as upperDir: overlay's work directory, the bundle and
   * the mount point go here; it is removed afterwards.
   */
  scratchDir: string;
  args: string[];
  /** KEY=value entries over PATH's default. */
  env?: string[];
  /** `name|uid[:group|gid]`, resolved against the tree's own /etc/passwd and /etc/group. */
  user?: string;
  /** Absolute; created when missing, as Docker does. Default "/". */
  workdir?: string;
  /** "default": a private namespace with slirp4netns's NAT; "none": loopback only; "host": the host's. */
  network?: "none" | "host" | "default";
  hostname?: string;
  mounts?: BindMount[];
  /** The OCI runtime binary (default "runc"). */
  runtime?: string;
  stdin?: Readable | string;
  /** Where the process's output goes; when omitted it is collected into the result. */
  stdout?: Writable;
  stderr?: Writable;
}

export interface EphemeralResult {
  exitCode: number;
  /** Collected output (empty when a stream was given for it). */
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Runs one process in a throwaway container over the given layers (a build's RUN step): the
 * upper directory keeps the changes, nothing else remains. The exit status is the process's
 * (128+N when killed by signal N); a process that cannot start throws CommandStartError (exit
 * status 126 or 127), a runtime failure RuntimeError.
 */
export async function runEphemeral(opts: EphemeralOptions): Promise<EphemeralResult> {
  const id = `berth-run-${randomBytes(8).toString("hex")}`;
  const scratch = opts.scratchDir;
  const merged = join(scratch, "merged");
  const bundle = join(scratch, "bundle");
  const initDir = join(scratch, "init");
  await Promise.all([
    mkdir(merged, { recursive: true }),
    mkdir(join(scratch, "work"), { recursive: true }),
    mkdir(bundle, { recursive: true }),
    mkdir(opts.upperDir, { recursive: true }),
  ]);
  const runtime = new OciRuntime(opts.runtime ?? "runc", join(scratch, "state"));
  const network = opts.network ?? "none";
  let mounted = false;
  let netns: string | undefined;
  let slirpPid: number | undefined;
  try {
    makeInitLayer(initDir);
    await mountOverlay({
      lowers: [initDir, ...opts.lowerDirs],
      upper: opts.upperDir,
      work: join(scratch, "work"),
      target: merged,
    });
    mounted = true;
    const hostname = opts.hostname ?? "berth";
    if (network === "default") {
      netns = await createNetns(id);
      const slirp = startSlirp(netns, join(scratch, "slirp.sock"));
      slirpPid = slirp.pid;
      await slirp.ready;
    }
    await writeFile(
      join(bundle, "hosts"),
      hostsFile(hostname, network === "default" ? SLIRP_ADDRESS : undefined),
    );
    await writeFile(join(bundle, "hostname"), `${hostname}\n`);
    await writeFile(
      join(bundle, "resolv.conf"),
      resolvConf(readHostResolvConf(), network === "default" ? "private" : network),
    );
    const user = await resolveUserInRoot(merged, opts.user);
    const spec = buildSpec({
      rootfs: merged,
      args: opts.args,
      env: mergeEnv([DEFAULT_PATH], opts.env ?? []),
      cwd: opts.workdir ?? "/",
      user,
      hostname,
      tty: false,
      readOnly: false,
      network: network === "default" ? "private" : network,
      etc: {
        hosts: join(bundle, "hosts"),
        hostname: join(bundle, "hostname"),
        resolvConf: join(bundle, "resolv.conf"),
      },
      mounts: opts.mounts ?? [],
      limits: {},
      cgroupsPath: id,
    });
    if (netns)
      spec.linux.namespaces = spec.linux.namespaces.map((n) =>
        n.type === "network" ? { type: "network", path: netns } : n,
      );
    await writeFile(join(bundle, "config.json"), JSON.stringify(spec));
    return await runForeground(runtime, id, bundle, opts);
  } finally {
    await runtime.delete(id, true).catch(() => {});
    if (slirpPid) {
      try {
        process.kill(slirpPid, "SIGKILL");
      } catch {}
    }
    if (netns) await deleteNetns(id).catch(() => {});
    if (mounted) await unmount(merged);
    await rm(scratch, { recursive: true, force: true });
  }
}

function readHostResolvConf(): string {
  try {
    return readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return "";
  }
}

/** `runc run` in the foreground: runc waits for the process and exits with its status. */
function runForeground(
  runtime: OciRuntime,
  id: string,
  bundle: string,
  opts: EphemeralOptions,
): Promise<EphemeralResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      runtime.path,
      [`--root=${runtime.stateRoot}`, "--log-format=json", "run", "--bundle", bundle, id],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    if (opts.stdout) child.stdout.pipe(opts.stdout, { end: false });
    else child.stdout.on("data", (d: Buffer) => out.push(d));
    // runc's own errors arrive on the same stderr as the process's: runc logs them as JSON lines.
    let runcError = "";
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      const lines = text.split("\n").filter((l) => l.startsWith('{"level":"error"'));
      for (const l of lines) runcError = (JSON.parse(l) as { msg: string }).msg;
      const rest =
        lines.length > 0
          ? Buffer.from(
              text
                .split("\n")
                .filter((l) => !l.startsWith('{"level":"error"'))
                .join("\n"),
            )
          : d;
      if (rest.length === 0) return;
      if (opts.stderr) opts.stderr.write(rest);
      else err.push(rest);
    });
    child.on("error", (e) => reject(new RuntimeError(`cannot run ${runtime.path}: ${e.message}`)));
    if (typeof opts.stdin === "string") child.stdin.end(opts.stdin);
    else if (opts.stdin) opts.stdin.pipe(child.stdin);
    else child.stdin.end();
    child.stdin.on("error", () => {});
    child.on("close", (code, signal) => {
      if (runcError) return reject(startFailure(runtimeMessage(runcError)));
      resolve({
        exitCode: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
      });
    });
  });
}
