import { createInterface } from "node:readline/promises";
import { Command } from "./commander.js";
import { containersOf, eachContainer, reportDaemonError } from "./container-context.js";
import { withContext } from "./context.js";
import { humanSize } from "./format/units.js";
import { duBytes } from "./ps.js";
import { followInForeground } from "./run.js";

export function startCommand(): Command {
  return new Command("start")
    .description("Start one or more stopped containers")
    .argument("<containers...>", "CONTAINER")
    .option("-a, --attach", "attach STDOUT/STDERR and forward signals")
    .option("-i, --interactive", "attach container's STDIN")
    .action(
      withContext(async (ctx, names: string[], flags: { attach?: boolean; interactive?: boolean }) => {
        const containers = containersOf(ctx);
        if (flags.attach || flags.interactive) {
          if (names.length > 1) {
            process.stderr.write("Error: you cannot start and attach multiple containers at once\n");
            process.exitCode = 1;
            return;
          }
          try {
            const rec = containers.find(names[0]!);
            if (flags.interactive || rec.settings.tty) {
              const { attachAndStart } = await import("./attach.js");
              process.exitCode = await attachAndStart(containers, rec.id, {
                stdin: Boolean(flags.interactive && rec.settings.openStdin),
                tty: rec.settings.tty,
                rm: rec.settings.autoRemove,
              });
              return;
            }
            process.exitCode = await followInForeground(containers, rec.id, rec.settings.autoRemove);
          } catch (err) {
            process.exitCode = reportDaemonError(err);
          }
          return;
        }
        await eachContainer(names, async (name) => {
          await containers.start(name);
          process.stdout.write(`${name}\n`);
        });
      }),
    );
}

export function stopCommand(): Command {
  return stopping("stop", "Stop one or more running containers", false);
}

export function restartCommand(): Command {
  return stopping("restart", "Restart one or more containers", true);
}

/** stop and restart: the same flags, and restart starts what it stopped. */
function stopping(name: string, description: string, startAgain: boolean): Command {
  return new Command(name)
    .description(description)
    .argument("<containers...>", "CONTAINER")
    .option("-t, --time <seconds>", "seconds to wait before killing the container")
    .option("-s, --signal <signal>", "signal to send to the container")
    .action(
      withContext(async (ctx, names: string[], flags: { time?: string; signal?: string }) => {
        const containers = containersOf(ctx);
        const time = flags.time === undefined ? undefined : Number(flags.time);
        await eachContainer(names, async (id) => {
          await containers.stop(id, time, flags.signal);
          if (startAgain) await containers.start(id);
          process.stdout.write(`${id}\n`);
        });
      }),
    );
}

export function killCommand(): Command {
  return new Command("kill")
    .description("Kill one or more running containers")
    .argument("<containers...>", "CONTAINER")
    .option("-s, --signal <signal>", "signal to send to the container", "KILL")
    .action(
      withContext(async (ctx, names: string[], flags: { signal: string }) => {
        const containers = containersOf(ctx);
        await eachContainer(names, async (name) => {
          await containers.kill(name, flags.signal);
          process.stdout.write(`${name}\n`);
        });
      }),
    );
}

export function rmCommand(name = "rm"): Command {
  return new Command(name)
    .description("Remove one or more containers")
    .argument("<containers...>", "CONTAINER")
    .option("-f, --force", "force the removal of a running container (uses SIGKILL)")
    .option("-v, --volumes", "remove anonymous volumes associated with the container")
    .action(
      withContext(async (ctx, names: string[], flags: { force?: boolean; volumes?: boolean }) => {
        const containers = containersOf(ctx);
        await eachContainer(names, async (n) => {
          await containers.remove(n, flags);
          process.stdout.write(`${n}\n`);
        });
      }),
    );
}

export function waitCommand(): Command {
  return new Command("wait")
    .description("Block until one or more containers stop, then print their exit codes")
    .argument("<containers...>", "CONTAINER")
    .action(
      withContext(async (ctx, names: string[]) => {
        const containers = containersOf(ctx);
        await eachContainer(names, async (name) => {
          process.stdout.write(`${await containers.wait(name)}\n`);
        });
      }),
    );
}

export function renameCommand(): Command {
  return new Command("rename")
    .description("Rename a container")
    .argument("<container>", "CONTAINER")
    .argument("<name>", "NEW_NAME")
    .action(
      withContext(async (ctx, from: string, to: string) => {
        try {
          containersOf(ctx).rename(from, to);
        } catch (err) {
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}

export function pruneContainersCommand(): Command {
  return new Command("prune")
    .description("Remove all stopped containers")
    .option("-f, --force", "do not prompt for confirmation")
    .action(
      withContext(async (ctx, flags: { force?: boolean }) => {
        if (!flags.force) {
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          const answer = await rl.question(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ",
          );
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim())) return;
        }
        const containers = containersOf(ctx);
        const removed: string[] = [];
        let reclaimed = 0;
        for (const c of containers.list()) {
          if (c.observed.state === "running" || c.observed.state === "restarting") continue;
          const size = await duBytes(containers.paths(c.id).upper);
          try {
            await containers.remove(c.id);
            removed.push(c.id);
            reclaimed += size;
          } catch (err) {
            reportDaemonError(err);
          }
        }
        if (removed.length > 0) process.stdout.write(`Deleted Containers:\n${removed.join("\n")}\n\n`);
        process.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
      }),
    );
}

/** conmon's exit command: not for users (docker has no such command; podman has `container cleanup`). */
export function cleanupCommand(): Command {
  return new Command("cleanup")
    .description(
      "Record a container's exit, free its mount and network, apply its restart policy (run by conmon)",
    )
    .argument("<container>", "CONTAINER")
    .action(
      withContext(async (ctx, id: string) => {
        await containersOf(ctx).cleanup(id);
      }),
    );
}
