import { InvalidArgumentError } from "../errors.js";
import { type ListEntry, ManifestLists } from "../images/manifest-lists.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { type ImageIndex, parseImageConfig, parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import type { Platform } from "../oci/platform.js";
import { formatReference, parseReference, type Reference } from "../oci/reference.js";
import { RegistrySink, RegistrySource } from "../transfer/registry.js";
import { readSmall } from "../transfer/verify.js";
import { transfer } from "../transfer/walk.js";
import { Command } from "./commander.js";
import { type CliContext, withContext } from "./context.js";
import { goJson } from "./format/json.js";

export function manifestCommand(): Command {
  const manifest = new Command("manifest").description("Manage Docker image manifests and manifest lists");
  manifest
    .command("inspect")
    .description("Display an image manifest, or manifest list")
    .argument("<name>", "MANIFEST, or MANIFEST_LIST when a second argument follows")
    .argument("[manifest]", "MANIFEST within MANIFEST_LIST")
    .option("--insecure", "allow communication with an insecure registry")
    .option("-v, --verbose", "output additional info including layers and platform")
    .action(
      withContext(async (ctx, a: string, b: string | undefined, flags: { verbose?: boolean }) => {
        if (b === undefined) await inspect(ctx, a, undefined, Boolean(flags.verbose));
        else await inspect(ctx, b, a, Boolean(flags.verbose));
      }),
    );
  manifest
    .command("create")
    .description("Create a local manifest list for annotating and pushing to a registry")
    .argument("<list>", "MANIFEST_LIST")
    .argument("<manifests...>", "MANIFEST")
    .option("-a, --amend", "amend an existing manifest list")
    .option("--insecure", "allow communication with an insecure registry")
    .action(
      withContext(async (ctx, list: string, images: string[], flags: { amend?: boolean }) => {
        const listRef = parseReference(list);
        const entries: ListEntry[] = [];
        for (const image of images) entries.push(await describeImage(ctx, parseReference(image), listRef));
        await lists(ctx).create(list, entries, Boolean(flags.amend));
        process.stdout.write(`Created manifest list ${formatReference(listRef)}\n`);
      }),
    );
  manifest
    .command("annotate")
    .description("Add additional information to a local image manifest")
    .argument("<list>", "MANIFEST_LIST")
    .argument("<manifest>", "MANIFEST")
    .option("--os <os>", "set operating system")
    .option("--arch <arch>", "set architecture")
    .option("--variant <variant>", "set architecture variant")
    .option("--os-version <version>", "set operating system version")
    .option("--os-features <features>", "set operating system feature (comma-separated)")
    .action(
      withContext(
        async (
          ctx,
          list: string,
          image: string,
          flags: { os?: string; arch?: string; variant?: string; osVersion?: string; osFeatures?: string },
        ) => {
          const target = formatReference(parseReference(image));
          const entries = await lists(ctx).entries(list);
          const entry = entries.find((e) => e.ref === target);
          if (!entry) throw new InvalidArgumentError(`manifest for image ${image} does not exist in ${list}`);
          const platform: Platform = { ...(entry.descriptor.platform ?? { os: "", architecture: "" }) };
          if (flags.os) platform.os = flags.os;
          if (flags.arch) platform.architecture = flags.arch;
          if (flags.variant) platform.variant = flags.variant;
          if (flags.osVersion) platform["os.version"] = flags.osVersion;
          if (flags.osFeatures) platform["os.features"] = flags.osFeatures.split(",");
          entry.descriptor.platform = platform;
          await lists(ctx).put(list, entry);
        },
      ),
    );
  manifest
    .command("push")
    .description("Push a manifest list to a repository")
    .argument("<list>", "MANIFEST_LIST")
    .option("-p, --purge", "remove the local manifest list after push")
    .option("--insecure", "allow push to an insecure registry")
    .action(
      withContext(async (ctx, list: string, flags: { purge?: boolean }) => {
        const digest = await push(ctx, list);
        if (flags.purge) await lists(ctx).remove(list);
        process.stdout.write(`${digest}\n`);
      }),
    );
  manifest
    .command("rm")
    .description("Delete one or more manifest lists from local storage")
    .argument("<lists...>", "MANIFEST_LIST")
    .action(
      withContext(async (ctx, names: string[]) => {
        for (const name of names) {
          if (!(await lists(ctx).exists(name))) throw new InvalidArgumentError(`No such manifest: ${name}`);
          await lists(ctx).remove(name);
        }
      }),
    );
  return manifest;
}

function lists(ctx: CliContext): ManifestLists {
  return new ManifestLists(ctx.root);
}

/** The descriptor (with platform, read from the image's config) of one image for a list. */
async function describeImage(ctx: CliContext, ref: Reference, listRef: Reference): Promise<ListEntry> {
  if (ref.registry !== listRef.registry) {
    throw new InvalidArgumentError(
      "cannot use source images from a different registry than the target image",
    );
  }
  const source = new RegistrySource(await ctx.repository(ref));
  const fetched = await source.resolve(ref.digest?.toString() ?? ref.tag!);
  const parsed = fetched.parsed;
  if (parsed.kind === "index") throw new InvalidArgumentError(`${formatReference(ref)} is a manifest list`);
  const desc = parsed.value.config;
  const config = parseImageConfig(await readSmall((await source.blob(desc)).stream, desc, "image config"));
  const platform: Platform = { architecture: config.architecture, os: config.os };
  if (config.variant) platform.variant = config.variant;
  if (config["os.version"]) platform["os.version"] = config["os.version"];
  return {
    ref: formatReference(ref),
    descriptor: {
      mediaType: parsed.mediaType,
      size: fetched.bytes.length,
      digest: fetched.descriptor.digest,
      platform,
    },
  };
}

async function push(ctx: CliContext, list: string): Promise<string> {
  const listRef = parseReference(list);
  const entries = await lists(ctx).entries(list);
  const target = await ctx.repository(listRef);
  for (const entry of entries) {
    const ref = parseReference(entry.ref);
    if (ref.repository === listRef.repository) continue;
    // Images from other repositories of the registry are brought over by digest, blobs mounted.
    await transfer(
      new RegistrySource(await ctx.repository(ref)),
      new RegistrySink(target, () => [ref.repository]),
      {
        reference: entry.descriptor.digest,
      },
    );
  }
  const allDocker = entries.every((e) => e.descriptor.mediaType === MediaTypes.DOCKER_MANIFEST);
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: allDocker ? MediaTypes.DOCKER_MANIFEST_LIST : MediaTypes.OCI_INDEX,
    manifests: entries.map((e) => e.descriptor),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  return target.putManifest(listRef.tag, bytes, index.mediaType!);
}

async function inspect(
  ctx: CliContext,
  name: string,
  list: string | undefined,
  verbose: boolean,
): Promise<void> {
  const out = process.stdout;
  if (list !== undefined || (await lists(ctx).exists(name))) {
    const entries = await lists(ctx).entries(list ?? name);
    if (list !== undefined) {
      const target = formatReference(parseReference(name));
      const entry = entries.find((e) => e.ref === target);
      if (!entry) throw new InvalidArgumentError(`No such manifest: ${name}`);
      out.write(`${JSON.stringify(entry, null, "\t")}\n`);
      return;
    }
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.DOCKER_MANIFEST_LIST,
      manifests: entries.map((e) => e.descriptor),
    };
    out.write(`${goJsonIndent(orderIndex(index), "   ")}\n`);
    return;
  }
  const ref = parseReference(name);
  const repo = await ctx.repository(ref);
  const fetched = await repo.getManifest(ref.digest?.toString() ?? ref.tag!);
  const parsed = parseManifest(fetched.bytes, fetched.mediaType);
  if (!verbose) {
    // Docker re-marshals a list with three-space indentation and indents a manifest's raw bytes with tabs.
    if (parsed.kind === "index") out.write(`${goJsonIndent(orderIndex(parsed.value), "   ")}\n`);
    else out.write(`${goJsonIndent(JSON.parse(fetched.bytes.toString("utf8")), "\t")}\n`);
    return;
  }
  if (parsed.kind === "index") {
    const rows = [];
    for (const desc of parsed.value.manifests) {
      const child = await repo.getManifest(desc.digest);
      rows.push(
        verboseEntry(
          formatReference({ ...ref, tag: undefined, digest: Digest.parse(desc.digest) }),
          desc,
          child.bytes,
        ),
      );
    }
    out.write(`${goJsonIndent(rows, "\t")}\n`);
  } else {
    const desc: Descriptor = {
      mediaType: parsed.mediaType,
      digest: fetched.digest.toString(),
      size: fetched.bytes.length,
    };
    out.write(`${goJsonIndent(verboseEntry(formatReference(ref), desc, fetched.bytes), "\t")}\n`);
  }
}

function verboseEntry(ref: string, descriptor: Descriptor, raw: Buffer): Record<string, unknown> {
  const parsed = parseManifest(raw);
  const key = parsed.mediaType === MediaTypes.DOCKER_MANIFEST ? "SchemaV2Manifest" : "OCIManifest";
  return {
    Ref: ref,
    Descriptor: descriptor,
    Raw: raw.toString("base64"),
    [key]: JSON.parse(raw.toString("utf8")),
  };
}

/** An index with its fields in the order Docker's structs marshal them. */
function orderIndex(index: ImageIndex): Record<string, unknown> {
  return {
    schemaVersion: index.schemaVersion,
    mediaType: index.mediaType,
    manifests: index.manifests.map((m) => {
      const p = m.platform;
      return {
        mediaType: m.mediaType,
        size: m.size,
        digest: m.digest,
        ...(p
          ? {
              platform: {
                architecture: p.architecture,
                os: p.os,
                ...(p["os.version"] ? { "os.version": p["os.version"] } : {}),
                ...(p["os.features"] ? { "os.features": p["os.features"] } : {}),
                ...(p.variant ? { variant: p.variant } : {}),
              },
            }
          : {}),
      };
    }),
  };
}

/** JSON as Go's json.MarshalIndent writes docker's structs: fields in order, <, > and & escaped. */
function goJsonIndent(value: unknown, indent: string): string {
  return goJson(value, { indent, plainObjects: "struct" });
}
