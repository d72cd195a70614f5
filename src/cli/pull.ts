import { UsageError } from "../errors.js";
import { type Platform, parsePlatform } from "../oci/platform.js";
import { familiarName, formatReference, parseReference, type Reference, withTag } from "../oci/reference.js";
import { RemoteError } from "../remote/errors.js";
import { pullImage as pullIntoStore } from "../transfer/pull.js";
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

export interface PulledImage {
  imageId: string;
  reference: Reference;
}

/**
 * Pulls one image as `docker pull` does, printing its progress to `out` (stdout; `run` and
 * `build` print a pull to stderr): "TAG: Pulling from REPO", the layers, "Digest:", "Status:".
 * Exported for the commands that pull what is missing.
 */
export async function pullImage(
  ctx: CliContext,
  input: string,
  opts: { platform?: string; quiet?: boolean; out?: NodeJS.WritableStream } = {},
): Promise<PulledImage> {
  const ref = parseReference(input);
  const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
  const out = opts.out ?? process.stdout;
  const { imageId } = await pullOne(ctx, ref, platform, opts.quiet ?? false, out);
  return { imageId, reference: ref };
}

async function runPull(ctx: CliContext, input: string, flags: PullFlags): Promise<void> {
  const ref = parseReference(input);
  const platform: Platform | undefined = flags.platform ? parsePlatform(flags.platform) : undefined;
  const out = process.stdout;
  const quiet = flags.quiet ?? false;
  const explicitTag = ref.digest !== undefined || /:[^/]+$/.test(input.replace(/@.*$/, ""));
  if (flags.allTags) {
    if (explicitTag) throw new UsageError("tag can't be used with --all-tags/-a");
    const tags = await (await ctx.repository(ref)).listTags();
    let newer = false;
    for (const tag of tags)
      newer = !(await pullOne(ctx, withTag(ref, tag), platform, quiet, out)).upToDate || newer;
    if (!quiet) {
      out.write(
        `Status: ${newer ? "Downloaded newer image" : "Image is up to date"} for ${familiarName(ref)}\n`,
      );
    }
    out.write(`${formatReference({ registry: ref.registry, repository: ref.repository })}\n`);
    return;
  }
  if (!explicitTag && !quiet) out.write(`Using default tag: ${ref.tag}\n`);
  const { upToDate } = await pullOne(ctx, ref, platform, quiet, out);
  if (!quiet) {
    out.write(
      `Status: ${upToDate ? "Image is up to date" : "Downloaded newer image"} for ${familiarString(ref)}\n`,
    );
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
  quiet: boolean,
  out: NodeJS.WritableStream,
): Promise<{ imageId: string; upToDate: boolean }> {
  // "Pulling from" names the repository path without its registry, as Docker's does, and comes
  // once the image is found (its first blob's event), so a missing image prints only the error.
  let announced = quiet;
  const announce = () => {
    if (announced) return;
    announced = true;
    out.write(`${ref.digest?.toString() ?? ref.tag}: Pulling from ${ref.repository}\n`);
  };
  const printer = quiet ? undefined : new ProgressPrinter(out, "pull");
  try {
    const result = await pullIntoStore(ctx.store, await ctx.repository(ref), ref, {
      platform,
      concurrency: ctx.config.maxConcurrentDownloads,
      onEvent: printer
        ? (e) => {
            announce();
            printer.listener(e);
          }
        : undefined,
    });
    announce();
    printer?.finish();
    if (!quiet) out.write(`Digest: ${result.digest}\n`);
    return result;
  } catch (err) {
    printer?.finish();
    if (err instanceof RemoteError && (err.code === "MANIFEST_UNKNOWN" || err.code === "NOT_FOUND")) {
      // Docker's words for a tag or digest the registry does not have.
      throw new RemoteError(
        404,
        "MANIFEST_UNKNOWN",
        `manifest for ${familiarString(ref)} not found: manifest unknown: ${err.reason || "manifest unknown"}`,
      );
    }
    throw err;
  }
}
