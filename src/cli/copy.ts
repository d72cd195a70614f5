import { UsageError } from "../errors.js";
import { parsePlatform } from "../oci/platform.js";
import { parseReference } from "../oci/reference.js";
import { transfer } from "../transfer/walk.js";
import { Command } from "./commander.js";
import { withContext } from "./context.js";
import { openDestination, openSource } from "./transports.js";

export function copyCommand(): Command {
  return new Command("copy")
    .description(
      "Copy an image between registries and archives without the local store (NAME, docker://NAME, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG])",
    )
    .argument("<source>", "where to read: NAME[:TAG|@DIGEST] or TRANSPORT:…")
    .argument("<destination>", "where to write: NAME[:TAG] or TRANSPORT:…")
    .option("--platform <platform>", "copy only this platform of a multi-platform image")
    .option("-q, --quiet", "print only the digest")
    .action(
      withContext(async (ctx, src: string, dst: string, flags: { platform?: string; quiet?: boolean }) => {
        const from = await openSource(ctx, src);
        const to = await openDestination(ctx, dst, from.registry);
        try {
          const { root } = await transfer(from.source, to.sink, {
            reference: from.reference,
            names: to.names,
            platform: flags.platform ? parsePlatform(flags.platform) : undefined,
            unwrap: true,
            concurrency: ctx.config.maxConcurrentUploads,
          });
          await to.close();
          const tag = to.names[0]?.tag;
          process.stdout.write(
            flags.quiet || !tag
              ? `${root.descriptor.digest}\n`
              : `${tag}: digest: ${root.descriptor.digest} size: ${root.bytes.length}\n`,
          );
        } catch (err) {
          await to.abort(err as Error);
          throw err;
        } finally {
          await from.close();
        }
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
        if (ref.digest) throw new UsageError("tags lists a repository: give a name without a digest");
        for (const tag of await (await ctx.repository(ref)).listTags()) process.stdout.write(`${tag}\n`);
      }),
    );
}
