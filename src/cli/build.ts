import { createWriteStream } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { parseBuildArgs } from "../build/args.js";
import type { BuildResult, ImageResolver } from "../build/builder.js";
import { BuildCache } from "../build/cache.js";
import type { ContextInput } from "../build/context.js";
import { BuildError } from "../build/errors.js";
import type { Location } from "../build/instructions.js";
import { Progress } from "../build/progress.js";
import { UsageError } from "../errors.js";
import { resolveLocalImage } from "../images/resolve.js";
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from "../oci/platform.js";
import { formatReference, parseReference } from "../oci/reference.js";
import { plainPrinter, ttyPrinter } from "./build-progress.js";
import { Command } from "./commander.js";
import { type CliContext, withContext } from "./context.js";
import { humanSize, timeAgo } from "./format/units.js";
import { printRows } from "./output.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  target?: string;
  cache: boolean;
  pull?: boolean;
  platform?: string;
  label?: string[];
  quiet?: boolean;
  iidfile?: string;
  network?: string;
  progress: string;
  output?: string;
  compression: string;
}

/** `berth build` (also `berth image build` and `berth buildx build`). */
export function buildCommand(name = "build"): Command {
  return new Command(name)
    .description("Build an image from a Dockerfile")
    .argument("<context>", "PATH | - (a Dockerfile or a tar on stdin) | a tar file")
    .option("-t, --tag <name>", "name and optionally a tag (format: name:tag)", collect)
    .option("-f, --file <path>", "name of the Dockerfile (default: PATH/Dockerfile)")
    .option("--build-arg <arg>", "set build-time variables", collect)
    .option("--target <stage>", "set the target build stage to build")
    .option("--no-cache", "do not use cache when building the image")
    .option("--pull", "always attempt to pull all referenced images")
    .option("--platform <platform>", "set target platform for build (this machine's only)")
    .option("--label <label>", "set metadata for an image", collect)
    .option("-q, --quiet", "suppress the build output and print image ID on success")
    .option("--iidfile <file>", "write the image ID to the file")
    .option(
      "--network <mode>",
      'set the networking mode for the RUN instructions ("default", "none", "host")',
    )
    .option("--progress <type>", 'set type of progress output ("auto", "plain", "tty", "quiet")', "auto")
    .option("-o, --output <spec>", "output destination (format: type=oci|docker,dest=FILE)")
    .option("--compression <kind>", "layer compression (gzip, zstd)", "gzip")
    .action(withContext(async (ctx, context: string, flags: BuildFlags) => runBuild(ctx, context, flags)));
}

/** `berth buildx build …` as an alias, so scripts written for buildx run unchanged. */
export function buildxCommand(): Command {
  return new Command("buildx").description("Docker Buildx (Berth's builder)").addCommand(buildCommand());
}

interface OutputSpec {
  type: "oci" | "docker";
  dest: string;
}

function parseOutput(spec: string): OutputSpec {
  const fields = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new UsageError(`invalid value "${spec}" for flag --output: ${part} is not KEY=VALUE`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const type = fields.get("type");
  const dest = fields.get("dest");
  if (type !== "oci" && type !== "docker")
    throw new UsageError(`invalid value "${spec}" for flag --output: type must be oci or docker`);
  if (!dest) throw new UsageError(`invalid value "${spec}" for flag --output: dest=FILE is required`);
  return { type, dest };
}

async function runBuild(ctx: CliContext, contextArg: string, flags: BuildFlags): Promise<void> {
  const progressMode = flags.quiet ? "quiet" : flags.progress;
  if (!["auto", "plain", "tty", "quiet", "rawjson"].includes(progressMode))
    throw new UsageError(
      `invalid progress mode ${JSON.stringify(flags.progress)}: auto, plain, tty or quiet`,
    );
  const compression = flags.compression;
  if (compression !== "gzip" && compression !== "zstd")
    throw new UsageError(`invalid compression ${JSON.stringify(compression)}: gzip or zstd`);
  const network = flags.network ?? "default";
  if (!["default", "none", "host"].includes(network))
    throw new UsageError(
      `network mode ${JSON.stringify(network)} not supported by Berth's builder: default, none or host`,
    );
  const platform = hostPlatform();
  if (flags.platform) {
    for (const p of flags.platform.split(",")) {
      const wanted = parsePlatform(p.trim());
      if (!platformMatches(wanted, platform))
        throw new UsageError(
          `platform ${formatPlatform(wanted)} is not supported: Berth builds for this machine's platform only (${formatPlatform(platform)})`,
        );
    }
  }
  const output = flags.output ? parseOutput(flags.output) : undefined;
  const tags = (flags.tag ?? []).map((t) => {
    const ref = parseReference(t);
    if (ref.digest) throw new UsageError(`invalid tag "${t}": a tag cannot name a digest`);
    return ref;
  });
  const labels: Record<string, string> = {};
  for (const l of flags.label ?? []) {
    const eq = l.indexOf("=");
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }
  const buildArgs = parseBuildArgs(flags.buildArg ?? [], process.env);
  const epochText = process.env.SOURCE_DATE_EPOCH ?? buildArgs.get("SOURCE_DATE_EPOCH");
  let epoch: number | undefined;
  if (epochText !== undefined && epochText !== "") {
    if (!/^\d+$/.test(epochText)) throw new UsageError(`invalid SOURCE_DATE_EPOCH: ${epochText}`);
    epoch = Number(epochText);
  }

  const [
    { loadContext, readStdinContext, DEFAULT_CONTEXT_LIMIT, parseByteSize },
    { parseDockerfile },
    builder,
  ] = await Promise.all([
    import("../build/context.js"),
    import("../build/dockerfile.js"),
    import("../build/builder.js"),
  ]);

  const { listener, finish } = progressListener(progressMode);
  const progress = new Progress(listener);
  const limitSetting = process.env.BERTH_BUILD_CONTEXT_LIMIT ?? ctx.config.buildContextLimit;
  const maxSize = limitSetting === undefined ? DEFAULT_CONTEXT_LIMIT : parseByteSize(String(limitSetting));
  if (maxSize === undefined)
    throw new UsageError(`invalid buildContextLimit ${JSON.stringify(limitSetting)}`);

  let input: ContextInput;
  let dockerfileText: string | undefined;
  if (contextArg === "-") {
    if (flags.file === "-")
      throw new UsageError("invalid argument: can't use stdin for both build context and dockerfile");
    ({ input, dockerfileText } = await readStdinContext(process.stdin));
  } else {
    const { stat } = await import("node:fs/promises");
    const st = await stat(contextArg).catch(() => undefined);
    if (!st) throw new UsageError(`unable to prepare context: path ${JSON.stringify(contextArg)} not found`);
    if (st.isDirectory()) input = { kind: "directory", path: contextArg };
    else {
      const { createReadStream } = await import("node:fs");
      input = { kind: "tar", stream: createReadStream(contextArg), description: contextArg };
    }
    if (flags.file === "-") {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      dockerfileText = Buffer.concat(chunks).toString("utf8");
    }
  }

  const store = ctx.store;
  const { Lease } = await import("../images/leases.js");
  const lease = Lease.open(store.db);
  const defVertex = progress.start("[internal] load build definition from Dockerfile");
  let loaded: Awaited<ReturnType<typeof loadContext>>;
  try {
    loaded = await loadContext(input, {
      ...(flags.file !== undefined && flags.file !== "-" ? { dockerfile: flags.file } : {}),
      ...(dockerfileText !== undefined ? { dockerfileText } : {}),
      scratch: store.tmpDir(),
      maxSize,
    });
  } catch (err) {
    defVertex.fail((err as Error).message);
    finish();
    lease.release();
    throw err;
  }
  let result: BuildResult;
  try {
    defVertex.status(`transferring dockerfile: ${humanSize(Buffer.byteLength(loaded.dockerfile.text))} done`);
    defVertex.done();
    const ctxVertex = progress.start("[internal] load build context");
    ctxVertex.status(`transferring context: ${humanSize(loaded.size)} done`);
    ctxVertex.done();
    let dockerfile: ReturnType<typeof parseDockerfile>;
    try {
      dockerfile = parseDockerfile(loaded.dockerfile.text, loaded.dockerfile.name);
      result = await builder.build({
        store,
        dockerfile,
        context: loaded.tree,
        rememberDigests: input.kind === "directory",
        ...(flags.target !== undefined ? { target: flags.target } : {}),
        buildArgs,
        labels,
        noCache: !flags.cache,
        pull: flags.pull ?? false,
        network: network as "default" | "none" | "host",
        compression,
        ...(epoch !== undefined ? { epoch } : {}),
        platform,
        resolveImage: imageResolver(ctx),
        progress,
        lease,
      });
    } catch (err) {
      finish();
      if (err instanceof BuildError && err.loc) showLocation(loaded.dockerfile.text, err.loc);
      if (err instanceof BuildError) throw new BuildError(`failed to solve: ${err.detail}`);
      throw err;
    }

    if (output) {
      const v = progress.start(`exporting to ${output.type === "oci" ? "oci" : "docker"} image format`);
      await v.run(async () => {
        v.status("exporting layers done");
        v.status(`exporting config ${result.imageId} done`);
        await writeArchive(ctx, result, tags, output);
        v.status("sending tarball done");
      });
    } else {
      const v = progress.start("exporting to image");
      await v.run(async () => {
        v.status("exporting layers done");
        const committed = await builder.commitBuild(
          store,
          result,
          tags.map((t) => ({ repository: `${t.registry}/${t.repository}`, tag: t.tag ?? "latest" })),
        );
        v.status(`exporting manifest ${committed.manifestDigest} done`);
        v.status(`exporting config ${result.imageId} done`);
        v.status(`writing image ${result.imageId} done`);
        for (const t of tags) v.status(`naming to ${formatReference(t)} done`);
      });
    }
    finish();
  } finally {
    lease.release();
    await loaded.dispose();
  }
  if (flags.iidfile) await writeFile(flags.iidfile, result.imageId);
  if (progressMode === "quiet") process.stdout.write(`${result.imageId}\n`);
}

function progressListener(mode: string): {
  listener: (e: import("../build/progress.js").BuildEvent) => void;
  finish(): void;
} {
  const err = process.stderr;
  if (mode === "quiet") return { listener: () => {}, finish: () => {} };
  if (mode === "tty" || (mode === "auto" && err.isTTY)) return ttyPrinter(err);
  return { listener: plainPrinter(err), finish: () => {} };
}

/** BuildKit's error excerpt: the Dockerfile's name and line, and the lines around it. */
function showLocation(text: string, loc: Location): void {
  const lines = text.split(/\r?\n/);
  const from = Math.max(1, loc.line - 4);
  const to = Math.min(lines.length, loc.endLine + 1);
  let s = `${loc.file}:${loc.line}${loc.endLine !== loc.line ? `-${loc.endLine}` : ""}\n--------------------\n`;
  const width = String(to).length + 1;
  for (let n = from; n <= to; n++) {
    const mark = n >= loc.line && n <= loc.endLine ? ">>>" : "   ";
    s += `${String(n).padStart(width)} | ${mark} ${lines[n - 1] ?? ""}\n`;
  }
  s += "--------------------\n";
  process.stderr.write(s);
}

/** The base images of a build: taken from the store, pulled when missing (always with --pull). */
function imageResolver(ctx: CliContext): ImageResolver {
  return async (name, opts) => {
    if (!opts.pull) {
      try {
        return { imageId: resolveLocalImage(ctx.store.db, name).imageId, pulled: false };
      } catch (err) {
        if ((err as { code?: string }).code !== "NO_SUCH_IMAGE") throw err;
      }
    }
    const { pullImage } = await import("./pull.js");
    await pullImage(ctx, name, { platform: formatPlatform(opts.platform), quiet: true, out: discard() });
    return { imageId: resolveLocalImage(ctx.store.db, name).imageId, pulled: true };
  };
}

function discard(): NodeJS.WritableStream {
  return new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
}

/**
 * --output: the image as an archive (an OCI layout; for type=docker also a docker-archive over
 * the same blobs, as `save` writes), without recording it in the store. Its layers stay, held by
 * the build cache.
 */
async function writeArchive(
  ctx: CliContext,
  result: BuildResult,
  tags: import("../oci/reference.js").Reference[],
  output: OutputSpec,
): Promise<void> {
  const [{ BuildResultSource }, { TarArchiveSink }, { transfer }, { checkOutputPath }] = await Promise.all([
    import("../build/output.js"),
    import("../archive/tar-sink.js"),
    import("../transfer/walk.js"),
    import("../archive/save.js"),
  ]);
  await checkOutputPath(output.dest);
  const source = new BuildResultSource(ctx.store, result);
  const tmp = `${output.dest}.tmp-${process.pid}`;
  const sink = new TarArchiveSink(createWriteStream(tmp), { docker: output.type === "docker" });
  try {
    await transfer(source, sink, { reference: source.manifestDigest, names: tags, concurrency: 1 });
    await sink.close();
    await rename(tmp, output.dest);
  } catch (err) {
    await sink.abort(err as Error).catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

// ---- builder prune ---------------------------------------------------------------------------

export function builderCommand(): Command {
  return new Command("builder").description("Manage builds").addCommand(
    new Command("prune")
      .description("Remove build cache")
      .option("-a, --all", "remove all unused build cache, not just dangling ones")
      .option("-f, --force", "do not prompt for confirmation")
      .action(withContext(async (ctx, flags: { all?: boolean; force?: boolean }) => prune(ctx, flags))),
  );
}

async function prune(ctx: CliContext, flags: { all?: boolean; force?: boolean }): Promise<void> {
  if (!flags.force) {
    const warning = flags.all
      ? "WARNING! This will remove all build cache. Are you sure you want to continue?"
      : "WARNING! This will remove all dangling build cache. Are you sure you want to continue?";
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`${warning} [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new BuildError("builder prune has been cancelled");
  }
  const { removed, reclaimed } = await BuildCache.open(ctx.store).prune(flags.all ?? false);
  if (removed.length > 0) {
    let s = "Deleted build cache objects:\n";
    for (const r of removed) s += `${cacheId(r.key)}\n`;
    process.stdout.write(`${s}\n`);
  }
  process.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
}

/** BuildKit names cache records with 25 characters; Berth shows its key's first 25. */
function cacheId(key: string): string {
  return key.replace(/^sha256:/, "").slice(0, 25);
}

// ---- system df -------------------------------------------------------------------------------

export function systemCommand(): Command {
  return new Command("system").description("Manage Berth").addCommand(
    new Command("df")
      .description("Show disk usage")
      .option("-v, --verbose", "show detailed information on space usage")
      .option("--format <format>", "format output using a custom template")
      .action(
        withContext(async (ctx, flags: { verbose?: boolean; format?: string }) => diskUsage(ctx, flags)),
      ),
  );
}

interface DfRow {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

async function diskUsage(ctx: CliContext, flags: { verbose?: boolean; format?: string }): Promise<void> {
  const db = ctx.store.db;
  const images = db.images();
  // Images a container uses are active.
  const { imagesInUse } = await import("../runtime/image-users.js");
  const activeIds = imagesInUse(ctx.store);
  const imagesSize = db.layersSize();
  const active = images.filter((i) => activeIds.has(i.id));
  const activeSize = db.layersSize(active.map((i) => i.id));
  const reclaimable = imagesSize - activeSize;
  const percent = (part: number, whole: number) =>
    whole > 0 ? ` (${Math.round((part * 100) / whole)}%)` : "";
  const cache = BuildCache.open(ctx.store).usage();
  const rows: DfRow[] = [
    {
      Type: "Images",
      TotalCount: String(images.length),
      Active: String(active.length),
      Size: humanSize(imagesSize),
      Reclaimable: `${humanSize(reclaimable)}${percent(reclaimable, imagesSize)}`,
    },
    // Containers and Local Volumes rows go here, from the runtime's records (sizes of their
    // upper and volume directories), once it exposes them.
    {
      Type: "Build Cache",
      TotalCount: String(cache.entries),
      Active: "0",
      Size: humanSize(cache.size),
      Reclaimable: humanSize(cache.reclaimable),
    },
  ];
  printRows(
    rows,
    flags.format,
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
    {
      Type: "TYPE",
      TotalCount: "TOTAL",
      Active: "ACTIVE",
      Size: "SIZE",
      Reclaimable: "RECLAIMABLE",
    },
    process.stdout,
    "*formatter.diskUsageImagesContext",
  );
  if (flags.verbose) {
    const entries = BuildCache.open(ctx.store).entries();
    process.stdout.write(`\nBuild cache usage: ${humanSize(cache.size)}\n\n`);
    printRows(
      entries.map((e) => ({
        ID: cacheId(e.key),
        CacheType: "regular",
        Size: humanSize(e.size),
        CreatedSince: timeAgo(new Date(e.createdAt)),
        LastUsedSince: timeAgo(new Date(e.lastUsed)),
        UsageCount: String(e.usageCount),
        Shared: String(e.inUse),
        Description: e.description,
      })),
      undefined,
      "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
      {
        ID: "CACHE ID",
        CacheType: "CACHE TYPE",
        Size: "SIZE",
        CreatedSince: "CREATED",
        LastUsedSince: "LAST USED",
        UsageCount: "USAGE",
        Shared: "SHARED",
      },
    );
  }
}
