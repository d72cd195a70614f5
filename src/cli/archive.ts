import { loadArchive } from "../archive/load.js";
import { checkOutputPath, type SaveItem, saveImages, saveImagesToFile } from "../archive/save.js";
import { InvalidArgumentError } from "../errors.js";
import { resolveLocalImage } from "../images/resolve.js";
import { familiarString } from "../oci/reference.js";
import { Command } from "./commander.js";
import { withContext } from "./context.js";

export function saveCommand(): Command {
  return new Command("save")
    .description("Save one or more images to a tar archive (streamed to STDOUT by default)")
    .argument("<images...>", "IMAGE")
    .option("-o, --output <file>", "write to a file, instead of STDOUT")
    .action(
      withContext(async (ctx, images: string[], flags: { output?: string }) => {
        const toFile = flags.output !== undefined && flags.output !== "" && flags.output !== "-";
        // docker's order: where to write is checked before the images are looked at.
        if (!toFile && process.stdout.isTTY) {
          throw new InvalidArgumentError(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect",
          );
        }
        if (toFile) await checkOutputPath(flags.output!, "failed to save image");
        const items: SaveItem[] = [];
        const seen = new Map<string, SaveItem>();
        for (const input of images) {
          const { imageId, reference } = resolveLocalImage(ctx.store.db, input);
          const names = reference && !reference.digest ? [reference] : [];
          const existing = seen.get(imageId);
          if (existing) existing.names.push(...names);
          else {
            const item = { input, names };
            seen.set(imageId, item);
            items.push(item);
          }
        }
        if (toFile) {
          await saveImagesToFile(ctx.store, items, flags.output!);
          return;
        }
        await saveImages(ctx.store, items, process.stdout);
      }),
    );
}

export function loadCommand(): Command {
  return new Command("load")
    .description("Load an image from a tar archive (docker-archive, OCI archive) or an OCI layout directory")
    .option("-i, --input <file>", "read from a file or OCI layout directory, instead of STDIN")
    .option("-q, --quiet", "suppress the load output")
    .action(
      withContext(async (ctx, flags: { input?: string; quiet?: boolean }) => {
        if (!flags.input && process.stdin.isTTY) {
          throw new InvalidArgumentError("requested load from stdin, but stdin is empty");
        }
        const loaded = await loadArchive(ctx.store, flags.input ?? process.stdin);
        // docker load -q drops the progress, not the "Loaded image" lines.
        for (const image of loaded) {
          if (image.names.length === 0) process.stdout.write(`Loaded image ID: ${image.imageId}\n`);
          for (const name of image.names) process.stdout.write(`Loaded image: ${familiarString(name)}\n`);
        }
      }),
    );
}
