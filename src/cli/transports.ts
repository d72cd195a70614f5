import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openArchiveDir } from "../archive/load.js";
import { OciLayoutSink, OciLayoutSource } from "../archive/oci-layout.js";
import { checkOutputPath } from "../archive/save.js";
import { TarArchiveSink } from "../archive/tar-sink.js";
import { untar } from "../archive/untar.js";
import { UsageError } from "../errors.js";
import { parseReference, type Reference } from "../oci/reference.js";
import { RegistrySink, RegistrySource } from "../transfer/registry.js";
import type { ImageSink, ImageSource } from "../transfer/types.js";
import type { CliContext } from "./context.js";

/**
 * Where `copy` reads and writes, in skopeo's transport syntax: `docker://NAME` (or a bare
 * NAME) for a registry, `oci:DIR[:TAG]` for an OCI layout directory, `oci-archive:FILE[:TAG]`
 * for a tar of one, `docker-archive:FILE[:NAME:TAG]` for a docker-archive (written as Docker
 * 25+ writes them: a docker-archive and an OCI layout in one tar).
 */
export interface OpenedSource {
  source: ImageSource;
  reference: string;
  /** The registry and repository, when the source is one (for cross-repository mounts). */
  registry?: { registry: string; repository: string };
  close(): Promise<void>;
}

export interface OpenedDestination {
  sink: ImageSink;
  names: Reference[];
  /** Finishes what the sink writes (an archive's index files, its rename into place). */
  close(): Promise<void>;
  /** Throws away what a failed copy wrote. */
  abort(err: Error): Promise<void>;
}

function split(spec: string): { transport: string; rest: string } {
  const m = /^(docker|oci|oci-archive|docker-archive):(.*)$/.exec(spec);
  if (!m) return { transport: "docker", rest: spec };
  const rest = m[1] === "docker" ? m[2]!.replace(/^\/\//, "") : m[2]!;
  if (rest === "") throw new UsageError(`invalid image name "${spec}": nothing after "${m[1]}:"`);
  return { transport: m[1]!, rest };
}

/** "PATH:REF" with REF optional; a path holding ':' can be written with a trailing ':'. */
function pathAndRef(rest: string): { path: string; ref: string } {
  const i = rest.indexOf(":");
  return i < 0 ? { path: rest, ref: "" } : { path: rest.slice(0, i), ref: rest.slice(i + 1) };
}

/** A name for a sink that keeps only a tag (an OCI layout's ref.name). */
function tagOnly(tag: string): Reference[] {
  return tag ? [parseReference(`localhost/layout:${tag}`)] : [];
}

export async function openSource(ctx: CliContext, spec: string): Promise<OpenedSource> {
  const { transport, rest } = split(spec);
  if (transport === "docker") {
    const ref = parseReference(rest);
    return {
      source: new RegistrySource(await ctx.repository(ref)),
      reference: ref.digest?.toString() ?? ref.tag ?? "latest",
      registry: { registry: ref.registry, repository: ref.repository },
      close: async () => {},
    };
  }
  const { path, ref } = pathAndRef(rest);
  if (transport === "oci")
    return { source: new OciLayoutSource(path), reference: ref, close: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "berth-copy-"));
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    await untar(createReadStream(path), dir);
    const contents = await openArchiveDir(dir);
    let reference = ref;
    if (transport === "docker-archive" || ref === "") {
      const wanted = ref ? parseReference(ref) : undefined;
      const image = wanted
        ? contents.images.find((i) =>
            i.names.some(
              (n) =>
                n.registry === wanted.registry && n.repository === wanted.repository && n.tag === wanted.tag,
            ),
          )
        : contents.images[0];
      if (!image) throw new UsageError(`${path} has no image ${ref || "at all"}`);
      reference = image.reference;
    }
    return { source: contents.source, reference, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function openDestination(
  ctx: CliContext,
  spec: string,
  from?: { registry: string; repository: string },
): Promise<OpenedDestination> {
  const { transport, rest } = split(spec);
  const nothing = async () => {};
  if (transport === "docker") {
    const ref = parseReference(rest);
    if (ref.digest) throw new UsageError("the destination must be a tag, not a digest");
    const sameRegistry = from && from.registry === ref.registry && from.repository !== ref.repository;
    const sink = new RegistrySink(await ctx.repository(ref), () => (sameRegistry ? [from.repository] : []));
    return { sink, names: [ref], close: nothing, abort: nothing };
  }
  const { path, ref } = pathAndRef(rest);
  if (transport === "oci")
    return { sink: new OciLayoutSink(path), names: tagOnly(ref), close: nothing, abort: nothing };
  await checkOutputPath(path);
  const tmp = `${path}.tmp-${process.pid}`;
  const docker = transport === "docker-archive";
  const sink = new TarArchiveSink(createWriteStream(tmp), { docker });
  return {
    sink,
    names: docker ? (ref ? [parseReference(ref)] : []) : tagOnly(ref),
    close: async () => {
      await sink.close();
      await rename(tmp, path);
    },
    abort: async (err) => {
      await sink.abort(err);
      await rm(tmp, { force: true });
    },
  };
}
