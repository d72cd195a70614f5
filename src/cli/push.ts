import { UsageError } from "../errors.js";
import { NoSuchImageError, repositoryOf } from "../images/resolve.js";
import { familiarName, formatReference, parseReference, type Reference, withTag } from "../oci/reference.js";
import { pushImage } from "../transfer/push.js";
import { Command } from "./commander.js";
import { type CliContext, withContext } from "./context.js";
import { ProgressPrinter } from "./progress.js";

interface PushFlags {
  allTags?: boolean;
  quiet?: boolean;
  compression: string;
}

export function pushCommand(name = "push"): Command {
  return new Command(name)
    .description("Upload an image to a registry")
    .argument("<name>", "NAME[:TAG]")
    .option("-a, --all-tags", "push all tags of an image to the repository")
    .option("-q, --quiet", "suppress verbose output")
    .option("--compression <algorithm>", "compress layers held only as plain tars with gzip or zstd", "gzip")
    .action(withContext(async (ctx, input: string, flags: PushFlags) => runPush(ctx, input, flags)));
}

async function runPush(ctx: CliContext, input: string, flags: PushFlags): Promise<void> {
  if (flags.compression !== "gzip" && flags.compression !== "zstd") {
    throw new UsageError(
      `invalid argument "${flags.compression}" for "--compression" flag: use gzip or zstd`,
    );
  }
  const ref = parseReference(input);
  if (ref.digest) throw new UsageError("cannot push a digest reference");
  const repository = repositoryOf(ref);
  const tagged = /:[^/]+$/.test(input);
  if (flags.allTags && tagged) throw new UsageError("tag can't be used with --all-tags/-a");
  const tags = flags.allTags
    ? ctx.store.db
        .allTags()
        .filter((t) => t.repository === repository)
        .map((t) => t.tag)
    : [ref.tag!];
  if (tags.length === 0 || (!flags.allTags && !ctx.store.db.tagged(repository, ref.tag!))) {
    throw new NoSuchImageError(
      familiarName(ref),
      `An image does not exist locally with the tag: ${familiarName(ref)}`,
    );
  }
  const out = process.stdout;
  if (!flags.quiet) {
    out.write(
      `The push refers to repository [${repository.startsWith("docker.io/") ? repository : familiarName(ref)}]\n`,
    );
  }
  for (const tag of tags) await pushOne(ctx, withTag(ref, tag), flags);
  // docker push -q prints only the full reference it pushed (the repository alone with -a).
  if (flags.quiet) out.write(`${flags.allTags ? repository : formatReference(ref)}\n`);
}

async function pushOne(ctx: CliContext, ref: Reference, flags: PushFlags): Promise<void> {
  const out = process.stdout;
  const printer = flags.quiet ? undefined : new ProgressPrinter(out, "push");
  try {
    const result = await pushImage(ctx.store, await ctx.repository(ref), ref, {
      concurrency: ctx.config.maxConcurrentUploads,
      onEvent: printer?.listener,
      compression: flags.compression as "gzip" | "zstd",
    });
    printer?.finish();
    if (!flags.quiet) out.write(`${ref.tag}: digest: ${result.digest} size: ${result.size}\n`);
  } catch (err) {
    printer?.finish();
    throw err;
  }
}
