import { containerTop, execInContainer } from "../runtime/exec.js";
import { inspectContainer } from "../runtime/inspect.js";
import { observe } from "../runtime/observe.js";
import { Command } from "./commander.js";
import { containersOf, reportDaemonError } from "./container-context.js";
import { withContext } from "./context.js";
import { printInspect } from "./output.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
}

export function execCommand(): Command {
  return new Command("exec")
    .description("Execute a command in a running container")
    .argument("<container>", "CONTAINER")
    .argument("<command...>", "COMMAND [ARG...]")
    .passThroughOptions()
    .option("-i, --interactive", "keep STDIN open even if not attached")
    .option("-t, --tty", "allocate a pseudo-TTY")
    .option("-d, --detach", "detached mode: run command in the background")
    .option("-e, --env <KEY=value>", "set environment variables", collect)
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("-u, --user <user>", "username or UID (format: <name|uid>[:<group|gid>])")
    .action(
      withContext(async (ctx, input: string, args: string[], flags: ExecFlags) => {
        try {
          process.exitCode = await execInContainer(
            containersOf(ctx),
            input,
            { args, ...flags },
            {
              stdin: flags.interactive || flags.tty ? process.stdin : undefined,
              stdout: process.stdout,
              stderr: process.stderr,
            },
          );
        } catch (err) {
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}

export function topCommand(): Command {
  return new Command("top")
    .description("Display the running processes of a container")
    .argument("<container>", "CONTAINER")
    .action(
      withContext(async (ctx, input: string) => {
        try {
          const { titles, processes } = await containerTop(containersOf(ctx), input);
          const rows = [titles, ...processes];
          const widths = titles.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
          for (const r of rows)
            process.stdout.write(
              `${r.map((f, i) => (i === r.length - 1 ? f : f.padEnd(widths[i]! + 3))).join("")}\n`,
            );
        } catch (err) {
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}

export function portCommand(): Command {
  return new Command("port")
    .description("List port mappings or a specific mapping for the container")
    .argument("<container>", "CONTAINER")
    .argument("[port]", "PRIVATE_PORT[/PROTO]")
    .action(
      withContext(async (ctx, input: string, port: string | undefined) => {
        const containers = containersOf(ctx);
        try {
          const rec = containers.find(input);
          const running = observe(rec, containers.paths(rec.id)).state === "running";
          const bindings = running ? rec.settings.ports : [];
          if (port) {
            const [num, proto = "tcp"] = port.split("/");
            const hits = bindings.filter((b) => String(b.containerPort) === num && b.proto === proto);
            if (hits.length === 0) {
              process.stderr.write(`Error: No public port '${num}/${proto}' published for ${input}\n`);
              process.exitCode = 1;
              return;
            }
            for (const b of hits) process.stdout.write(`${b.hostIp}:${b.hostPort}\n`);
            return;
          }
          for (const b of bindings)
            process.stdout.write(`${b.containerPort}/${b.proto} -> ${b.hostIp}:${b.hostPort}\n`);
        } catch (err) {
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}

export function attachCommand(): Command {
  return new Command("attach")
    .description("Attach local standard input, output, and error streams to a running container")
    .argument("<container>", "CONTAINER")
    .option("--no-stdin", "do not attach STDIN")
    .action(
      withContext(async (ctx, input: string, flags: { stdin: boolean }) => {
        const containers = containersOf(ctx);
        try {
          const rec = containers.find(input);
          if (observe(rec, containers.paths(rec.id)).state !== "running") {
            process.stderr.write("You cannot attach to a stopped container, start it first\n");
            process.exitCode = 1;
            return;
          }
          const { attachRunning } = await import("./attach.js");
          process.exitCode = await attachRunning(containers, rec.id, {
            stdin: flags.stdin && rec.settings.openStdin,
            tty: rec.settings.tty,
            rm: false,
          });
        } catch (err) {
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}

/** `container inspect`, and with `generic` the top-level `inspect` that also finds images. */
export function inspectCommand(generic = false): Command {
  return new Command("inspect")
    .description(
      generic
        ? "Return low-level information on Docker objects"
        : "Display detailed information on one or more containers",
    )
    .argument("<names...>", generic ? "NAME|ID" : "CONTAINER")
    .option("-f, --format <format>", "format output using a custom template")
    .option("-s, --size", "display total file sizes")
    .option("--type <type>", "return JSON for specified type (container, image)")
    .action(
      withContext(async (ctx, names: string[], flags: { format?: string; type?: string }) => {
        const containers = containersOf(ctx);
        const out: unknown[] = [];
        const missing: string[] = [];
        for (const name of names) {
          if (!generic || flags.type !== "image") {
            try {
              out.push(inspectContainer(containers, containers.view(containers.find(name))));
              continue;
            } catch (err) {
              if ((err as { code?: string }).code !== "NO_SUCH_CONTAINER") throw err;
            }
          }
          if (generic && flags.type !== "container") {
            const { resolveLocalImage } = await import("../images/resolve.js");
            const { inspectImage } = await import("../images/describe.js");
            try {
              const { imageId } = resolveLocalImage(ctx.store.db, name);
              out.push(await inspectImage(ctx.store, ctx.store.db.image(imageId)!));
              continue;
            } catch (err) {
              if ((err as { code?: string }).code !== "NO_SUCH_IMAGE") throw err;
            }
          }
          missing.push(name);
        }
        printInspect(out, flags.format);
        for (const m of missing)
          process.stderr.write(`Error: No such ${generic ? "object" : "container"}: ${m}\n`);
        if (missing.length > 0) process.exitCode = 1;
      }),
    );
}
