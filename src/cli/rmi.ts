import { BerthError } from "../errors.js";
import { pruneImages, type RemoveEvent, removeImage } from "../images/remove.js";
import { imageUsers } from "../runtime/image-users.js";
import { Command } from "./commander.js";
import { withContext } from "./context.js";
import { humanSize } from "./format/units.js";
import { confirm } from "./prompt.js";

function printEvents(events: RemoveEvent[], lower = false): void {
  for (const e of events) {
    const [key, value] = "Untagged" in e ? ["Untagged", e.Untagged] : ["Deleted", e.Deleted];
    process.stdout.write(`${lower ? key.toLowerCase() : key}: ${value}\n`);
  }
}

export function rmiCommand(name = "rmi"): Command {
  return new Command(name)
    .description("Remove one or more images")
    .argument("<images...>", "IMAGE")
    .option("-f, --force", "force removal of the image")
    .option("--no-prune", "do not delete untagged parents")
    .action(
      withContext(async (ctx, images: string[], flags: { force?: boolean; prune: boolean }) => {
        let failed = 0;
        for (const image of images) {
          try {
            printEvents(
              await removeImage(ctx.store, image, {
                force: flags.force,
                noPrune: !flags.prune,
                users: imageUsers(ctx.store),
              }),
            );
          } catch (err) {
            // Docker goes on with the other images and fails at the end.
            if (!(err instanceof BerthError)) throw err;
            failed++;
            const daemon = err.code === "CONFLICT" ? "Error response from daemon: " : "Error: ";
            process.stderr.write(`${daemon}${err.message}
`);
          }
        }
        if (failed > 0) process.exitCode = 1;
      }),
    );
}

export function pruneCommand(): Command {
  return new Command("prune")
    .description("Remove unused images")
    .option("-a, --all", "remove all unused images, not just dangling ones")
    .option("-f, --force", "do not prompt for confirmation")
    .action(
      withContext(async (ctx, flags: { all?: boolean; force?: boolean }) => {
        if (!flags.force) {
          const warning = flags.all
            ? "WARNING! This will remove all images without at least one container associated to them."
            : "WARNING! This will remove all dangling images.";
          if (!(await confirm(`${warning}\nAre you sure you want to continue? [y/N] `))) return;
        }
        const { events, reclaimed } = await pruneImages(ctx.store, {
          all: flags.all,
          users: imageUsers(ctx.store),
        });
        if (events.length > 0) {
          process.stdout.write("Deleted Images:\n");
          printEvents(events, true);
          process.stdout.write("\n");
        }
        process.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
      }),
    );
}
