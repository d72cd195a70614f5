import { importImage } from "../images/import.js";
import { type Platform, parsePlatform } from "../oci/platform.js";
import { familiarName, formatReference, parseReference, type Reference, withTag } from "../oci/reference.js";
import { RemoteError } from "../remote/errors.js";
import { Command } from "./commander.js";
import { type CliContext, withContext } from "./context.js";
import { ProgressPrinter } from "./progress.js";

interface PullFlags {
  platform?: string;
  allTags?: boolean;
  quiet?: boolean;
}

export function pullCommand(name = "pull"): Command {
  return new Command(name)
    .description("Download an image from a registry")
    .argument("<name>", "NAME[:TAG|@DIGEST]")
    .option("--platform <platform>", "set platform if server is multi-platform capable (os/arch[/variant])")
    .option("-a, --all-tags", "download all tagged images in the repository")
    .option("-q, --quiet", "suppress verbose output")
    .action(withContext(async (ctx, input: string, flags: PullFlags) => runPull(ctx, input, flags)));
}

/** The path Docker shows in "Pulling from": the repository path without its registry. */
function pullingFrom(ref: Reference): string {
  return ref.repository;
}

/**
 * Pulls an image as `berth pull` does, printing its progress to `out` (run pulls a missing image
 * this way, to stderr). The one entry point other commands use.
 */
export async function pullImage(
  ctx: CliContext,
  input: string,
  opts: { platform?: string; quiet?: boolean; out?: NodeJS.WritableStream } = {},
): Promise<void> {
  await runPull(ctx, input, { platform: opts.platform, quiet: opts.quiet }, opts.out);
}

async function runPull(
  ctx: CliContext,
  input: string,
  flags: PullFlags,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const ref = parseReference(input);
  const platform: Platform | undefined = flags.platform ? parsePlatform(flags.platform) : undefined;
  const explicitTag = ref.digest !== undefined || /:[^/]+$/.test(input.replace(/@.*$/, ""));
  if (flags.allTags) {
    if (explicitTag) throw new Error("tag can't be used with --all-tags/-a");
    const tags = await (await ctx.repository(ref)).listTags();
    let newer = false;
    for (const tag of tags) newer = (await pullOne(ctx, withTag(ref, tag), platform, flags, out)) || newer;
    if (!flags.quiet) {
      out.write(
        `Status: ${newer ? "Downloaded newer image" : "Image is up to date"} for ${familiarName(ref)}\n`,
      );
    }
    out.write(`${formatReference({ registry: ref.registry, repository: ref.repository })}\n`);
    return;
  }
  if (!explicitTag && !flags.quiet) out.write(`Using default tag: ${ref.tag}\n`);
  const newer = await pullOne(ctx, ref, platform, flags, out);
  if (!flags.quiet) {
    const shown = familiarString(ref);
    out.write(`Status: ${newer ? "Downloaded newer image" : "Image is up to date"} for ${shown}\n`);
  }
  out.write(`${formatReference(ref)}\n`);
}

function familiarString(ref: Reference): string {
  return `${familiarName(ref)}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
}

async function pullOne(
  ctx: CliContext,
  ref: Reference,
  platform: Platform | undefined,
  flags: PullFlags,
  out: NodeJS.WritableStream,
): Promise<boolean> {
  if (!flags.quiet) out.write(`${ref.digest?.toString() ?? ref.tag}: Pulling from ${pullingFrom(ref)}\n`);
  const printer = flags.quiet ? undefined : new ProgressPrinter(out);
  try {
    const result = await importImage(ctx.store, await ctx.repository(ref), ref, {
      platform,
      concurrency: ctx.config.maxConcurrentDownloads,
      onProgress: printer?.listener,
      recordSource: true,
    });
    if (!flags.quiet) out.write(`Digest: ${result.digest}\n`);
    return !result.upToDate;
  } catch (err) {
    if (err instanceof RemoteError && (err.code === "MANIFEST_UNKNOWN" || err.code === "NOT_FOUND")) {
      throw new Error(
        `manifest for ${familiarString(ref)} not found: manifest unknown: ${err.message || "manifest unknown"}`,
      );
    }
    throw err;
  }
}
