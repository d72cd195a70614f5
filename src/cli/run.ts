import { UsageError } from "../errors.js";
import { NoSuchImageError, resolveLocalImage } from "../images/resolve.js";
import { familiarString, parseReference } from "../oci/reference.js";
import type { Containers } from "../runtime/containers.js";
import { runInForeground } from "../runtime/foreground.js";
import type { Command } from "./commander.js";
import { containersOf, reportDaemonError } from "./container-context.js";
import { type CliContext, withContext } from "./context.js";
import { containerCommand, createRequestFrom, type RunFlags } from "./run-flags.js";

export function runCommand(): Command {
  return containerCommand("run", "Create and run a new container from an image")
    .option("-d, --detach", "run container in background and print container ID")
    .action(
      withContext(async (ctx, image: string, cmd: string[], flags: RunFlags) => {
        process.exitCode = await runContainer(ctx, image, cmd, flags);
      }),
    );
}

export function createCommand(): Command {
  return containerCommand("create", "Create a new container").action(
    withContext(async (ctx, image: string, cmd: string[], flags: RunFlags) => {
      try {
        const containers = containersOf(ctx);
        const rec = await containers.create({
          ...createRequestFrom(flags, cmd),
          ...(await imageFor(ctx, image, flags)),
        });
        process.stdout.write(`${rec.id}\n`);
      } catch (err) {
        process.exitCode = failed(err, "create");
      }
    }),
  );
}

/** docker run's failure output: `docker: Error response from daemon: …` and a hint; 125 unless the command could not start. */
function failed(err: unknown, command: string): number {
  if (err instanceof UsageError) {
    process.stderr.write(`berth: ${err.message}\nSee 'berth ${command} --help'.\n`);
    return 125;
  }
  const code = reportDaemonError(err, "berth: ");
  process.stderr.write(`Run 'berth ${command} --help' for more information\n`);
  return code === 1 ? 125 : code;
}

/** The image to run: local, else pulled first as docker run does (`--pull missing`), printing the pull to stderr. */
async function imageFor(
  ctx: CliContext,
  input: string,
  flags: RunFlags,
): Promise<{ imageId: string; image: string }> {
  // The registry client is loaded only to pull: a local image's run should not pay for it.
  const pull = async () =>
    (await import("./pull.js")).pullImage(ctx, input, { platform: flags.platform, out: process.stderr });
  if (flags.pull === "always") await pull();
  try {
    return { imageId: resolveLocalImage(ctx.store.db, input).imageId, image: input };
  } catch (err) {
    if (!(err instanceof NoSuchImageError) || flags.pull === "never") throw err;
  }
  process.stderr.write(`Unable to find image '${familiarString(parseReference(input))}' locally\n`);
  await pull();
  return { imageId: resolveLocalImage(ctx.store.db, input).imageId, image: input };
}

async function runContainer(ctx: CliContext, image: string, cmd: string[], flags: RunFlags): Promise<number> {
  const containers = containersOf(ctx);
  let id: string;
  try {
    const request = createRequestFrom(flags, cmd);
    const rec = await containers.create({ ...request, ...(await imageFor(ctx, image, flags)) });
    id = rec.id;
  } catch (err) {
    return failed(err, "run");
  }
  if (flags.detach) {
    try {
      await containers.start(id);
    } catch (err) {
      return failed(err, "run");
    }
    process.stdout.write(`${id}\n`);
    return 0;
  }
  if (flags.interactive || flags.tty) {
    const { attachAndStart } = await import("./attach.js");
    return attachAndStart(containers, id, {
      stdin: flags.interactive ?? false,
      tty: flags.tty ?? false,
      rm: flags.rm ?? false,
    });
  }
  try {
    return await followInForeground(containers, id, flags.rm ?? false);
  } catch (err) {
    return failed(err, "run");
  }
}

/** Starts the container and prints its output as it comes, forwarding our signals to it; resolves to its exit status. */
export async function followInForeground(containers: Containers, id: string, rm: boolean): Promise<number> {
  let unproxy = () => {};
  try {
    return await runInForeground(containers, id, {
      output: { stdout: process.stdout, stderr: process.stderr },
      remove: rm,
      started: () => {
        unproxy = proxySignals(containers, id);
      },
    });
  } finally {
    unproxy();
  }
}

/** docker run --sig-proxy: signals berth receives go to the container's process. */
function proxySignals(containers: Containers, id: string): () => void {
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
  const handler = (sig: NodeJS.Signals) => {
    containers.kill(id, sig).catch(() => {});
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
