import { UsageError } from "../errors.js";
import { parseReference } from "../oci/reference.js";
import { containerChanges } from "../runtime/changes.js";
import { commitContainer } from "../runtime/commit.js";
import { copyFromContainer, copyToContainer, exportContainer } from "../runtime/files.js";
import { Command } from "./commander.js";
import { containersOf, reportDaemonError } from "./container-context.js";
import { withContext } from "./context.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function diffCommand(): Command {
  return new Command("diff")
    .description("Inspect changes to files or directories on a container's filesystem")
    .argument("<container>", "CONTAINER")
    .action(
      withContext(async (ctx, input: string) => {
        const containers = containersOf(ctx);
        try {
          const rec = containers.find(input);
          const paths = containers.paths(rec.id);
          const lowers = [
            paths.init,
            ...ctx.store.db
              .imageLayers(rec.imageId)
              .map((l) => ctx.store.layerDiffDir(l.chainId))
              .reverse(),
          ];
          for (const c of await containerChanges(paths.upper, lowers))
            process.stdout.write(`${c.kind} ${c.path}\n`);
        } catch (err) {
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}

export function commitCommand(): Command {
  return new Command("commit")
    .description("Create a new image from a container's changes")
    .argument("<container>", "CONTAINER")
    .argument("[repository]", "REPOSITORY[:TAG]")
    .option("-a, --author <author>", 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option("-c, --change <instruction>", "apply Dockerfile instruction to the created image", collect)
    .option("-m, --message <message>", "commit message")
    .option("-p, --pause [bool]", "pause container during commit", (v) => v !== "false", true)
    .action(
      withContext(
        async (
          ctx,
          input: string,
          repository: string | undefined,
          flags: { author?: string; change?: string[]; message?: string; pause: boolean },
        ) => {
          try {
            const id = await commitContainer(containersOf(ctx), input, {
              reference: repository ? parseReference(repository) : undefined,
              author: flags.author,
              message: flags.message,
              changes: flags.change,
              pause: flags.pause,
            });
            process.stdout.write(`${id}\n`);
          } catch (err) {
            process.exitCode = reportDaemonError(err);
          }
        },
      ),
    );
}

export function exportCommand(): Command {
  return new Command("export")
    .description("Export a container's filesystem as a tar archive")
    .argument("<container>", "CONTAINER")
    .option("-o, --output <file>", "write to a file, instead of STDOUT")
    .action(
      withContext(async (ctx, input: string, flags: { output?: string }) => {
        if (!flags.output && process.stdout.isTTY) {
          process.stderr.write("cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
          process.exitCode = 1;
          return;
        }
        // docker's order: the output path first (the CLI's own error), then the container.
        const output = flags.output;
        const file = output ? await import("../archive/output-file.js") : undefined;
        if (output) await file!.checkOutputPath(output, "failed to export container");
        try {
          if (output)
            await file!.writeOutputFile(output, (out) => exportContainer(containersOf(ctx), input, out));
          else await exportContainer(containersOf(ctx), input, process.stdout);
        } catch (err) {
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}

/** `CONTAINER:PATH` (a colon before any slash), else a local path. */
function splitCopyArg(arg: string): { container?: string; path: string } {
  const colon = arg.indexOf(":");
  const slash = arg.indexOf("/");
  if (colon > 0 && (slash < 0 || colon < slash))
    return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || "/" };
  return { path: arg };
}

export function cpCommand(): Command {
  return new Command("cp")
    .description("Copy files/folders between a container and the local filesystem")
    .argument("<src>", "CONTAINER:SRC_PATH | SRC_PATH | -")
    .argument("<dest>", "DEST_PATH | - | CONTAINER:DEST_PATH")
    .action(
      withContext(async (ctx, srcArg: string, destArg: string) => {
        const src = splitCopyArg(srcArg);
        const dest = splitCopyArg(destArg);
        try {
          if (src.container && dest.container)
            throw new UsageError("copying between containers is not supported");
          if (!src.container && !dest.container)
            throw new UsageError("must specify at least one container source");
          const containers = containersOf(ctx);
          if (src.container) {
            await copyFromContainer(
              containers,
              src.container,
              src.path,
              dest.path === "-" ? process.stdout : dest.path,
            );
          } else {
            await copyToContainer(
              containers,
              dest.container!,
              src.path === "-" ? process.stdin : src.path,
              dest.path,
            );
          }
        } catch (err) {
          if (err instanceof UsageError) {
            process.stderr.write(`${err.message}\nSee 'berth cp --help'.\n`);
            process.exitCode = 1;
            return;
          }
          process.exitCode = reportDaemonError(err);
        }
      }),
    );
}
