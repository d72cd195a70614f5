import { InvalidArgumentError } from "../errors.js";
import { repositoryOf, resolveLocalImage } from "../images/resolve.js";
import { parseReference } from "../oci/reference.js";
import { Command } from "./commander.js";
import { withContext } from "./context.js";

export function tagCommand(name = "tag"): Command {
  return new Command(name)
    .description("Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    .argument("<source>", "SOURCE_IMAGE[:TAG]")
    .argument("<target>", "TARGET_IMAGE[:TAG]")
    .action(
      withContext(async (ctx, source: string, target: string) => {
        const { imageId, reference } = resolveLocalImage(ctx.store.db, source);
        const ref = parseReference(target);
        if (ref.digest) throw new InvalidArgumentError("refusing to create a tag with a digest reference");
        // The new tag keeps the manifest the source tag was pulled with, so a push sends it unchanged.
        const manifest =
          reference?.tag && !reference.digest
            ? ctx.store.db.tagManifest(repositoryOf(reference), reference.tag)
            : undefined;
        ctx.store.db.write(() => ctx.store.db.setTag(repositoryOf(ref), ref.tag!, imageId, manifest ?? null));
      }),
    );
}
