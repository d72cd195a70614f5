import { parsePlatform } from "../oci/platform.js";
import { parseReference } from "../oci/reference.js";
import { copyImage } from "../remote/copy.js";
import { Command } from "./commander.js";
import { withContext } from "./context.js";

export function copyCommand(): Command {
  return new Command("copy")
    .description("Copy an image from one registry to another without touching the local store")
    .argument("<source>", "NAME[:TAG|@DIGEST]")
    .argument("<destination>", "NAME[:TAG]")
    .option("--platform <platform>", "copy only this platform of a multi-platform image")
    .option("-q, --quiet", "print only the digest")
    .action(
      withContext(async (ctx, src: string, dst: string, flags: { platform?: string; quiet?: boolean }) => {
        const from = parseReference(src);
        const to = parseReference(dst);
        if (to.digest) throw new Error("the destination must be a tag, not a digest");
        const sameRegistry = from.registry === to.registry && from.repository !== to.repository;
        const result = await copyImage(
          await ctx.repository(from),
          await ctx.repository(to),
          from.digest?.toString() ?? from.tag!,
          to.tag,
          {
            platform: flags.platform ? parsePlatform(flags.platform) : undefined,
            mountFrom: sameRegistry ? from.repository : undefined,
          },
        );
        process.stdout.write(
          flags.quiet ? `${result.digest}\n` : `${to.tag}: digest: ${result.digest} size: ${result.size}\n`,
        );
      }),
    );
}

export function tagsCommand(): Command {
  return new Command("tags")
    .description("List the tags of a remote repository")
    .argument("<name>", "NAME")
    .action(
      withContext(async (ctx, name: string) => {
        const ref = parseReference(name);
        for (const tag of await (await ctx.repository(ref)).listTags()) process.stdout.write(`${tag}\n`);
      }),
    );
}
