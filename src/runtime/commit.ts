import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { chainIds } from "../images/chain.js";
import { imageConfig } from "../images/describe.js";
import { createLayerFromDirectory } from "../layer/create.js";
import { unpackLayer } from "../layer/unpack.js";
import { Digest, digestOf } from "../oci/digest.js";
import type { ImageConfig } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import type { Reference } from "../oci/reference.js";
import { applyChanges } from "./commit-changes.js";
import type { Containers } from "./containers.js";
import { withContainerLock } from "./lock.js";
import { observe } from "./observe.js";

export interface CommitOptions {
  reference?: Reference;
  message?: string;
  author?: string;
  changes?: string[];
  /** Freeze the container while its layer is read (docker's default). */
  pause?: boolean;
}

/**
 * `commit`: the container's upper directory becomes a new layer (a deterministic tar, overlay
 * whiteouts written as `.wh.` files, gzip) over its image's layers, with the container's
 * config (and `-c` changes) and a history entry. The layer is stored like a pulled one: its
 * blob in the content store, unpacked once into its chain-ID directory. Returns the image ID.
 */
export async function commitContainer(
  containers: Containers,
  input: string,
  opts: CommitOptions = {},
): Promise<string> {
  const rec = containers.find(input);
  const store = containers.store;
  const paths = containers.paths(rec.id);
  return withContainerLock(containers.db, rec.id, async () => {
    const running = observe(rec, paths).state === "running";
    let pause = running && opts.pause !== false;
    if (pause) await containers.runtime.pause(rec.id);
    await mkdir(store.tmpDir(), { recursive: true });
    const tmp = await mkdtemp(join(store.tmpDir(), "commit-"));
    try {
      const { stream, result } = createLayerFromDirectory(paths.upper, { compression: "gzip" });
      await pipeline(stream, createWriteStream(join(tmp, "layer")));
      const layer = await result;
      if (pause) {
        pause = false;
        await containers.runtime.resume(rec.id);
      }
      await store.content.write(
        { digest: Digest.parse(layer.digest), size: layer.size },
        createReadStream(join(tmp, "layer")),
      );

      const base = await imageConfig(store, rec.imageId);
      const s = rec.settings;
      const now = new Date().toISOString();
      const containerConfig = applyChanges(
        {
          ...(base.config ?? {}),
          User: s.user,
          Env: s.env.filter((e) => !e.startsWith("HOSTNAME=")),
          Cmd: s.cmd,
          Entrypoint: s.entrypoint,
          WorkingDir: s.workingDir,
          Labels: s.labels,
          ...(s.exposedPorts.length
            ? { ExposedPorts: Object.fromEntries(s.exposedPorts.map((p) => [p, {}])) }
            : {}),
          ...(s.stopSignal !== "SIGTERM" ? { StopSignal: s.stopSignal } : {}),
        },
        opts.changes ?? [],
      );
      const diffIds = [...base.rootfs.diff_ids, layer.diffId];
      const config: ImageConfig = {
        architecture: base.architecture,
        os: base.os,
        ...(base.variant ? { variant: base.variant } : {}),
        created: now,
        ...(opts.author ? { author: opts.author } : {}),
        config: containerConfig,
        rootfs: { type: "layers", diff_ids: diffIds },
        history: [
          ...(base.history ?? []),
          {
            created: now,
            created_by: s.args.join(" "),
            ...(opts.author ? { author: opts.author } : {}),
            ...(opts.message ? { comment: opts.message } : {}),
          },
        ],
      };
      const configBytes = Buffer.from(JSON.stringify(config));
      const imageId = digestOf(configBytes).toString();
      await store.content.write(
        { digest: Digest.parse(imageId), size: configBytes.length },
        Readable.from([configBytes]),
      );

      const chains = chainIds(diffIds);
      const chainId = chains.at(-1)!;
      const baseLayers = store.db.imageLayers(rec.imageId);
      if (!store.db.layer(chainId)) {
        const unpackDir = join(tmp, "unpacked");
        await mkdir(join(unpackDir, "diff"), { recursive: true });
        await unpackLayer({
          source: await store.content.reader(Digest.parse(layer.digest)),
          dest: join(unpackDir, "diff"),
          expectedDiffId: layer.diffId,
        });
        const final = store.layerDir(chainId);
        await mkdir(dirname(final), { recursive: true });
        await rename(unpackDir, final).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
        });
      }
      const ref = opts.reference;
      const baseImage = store.db.image(rec.imageId);
      store.db.addImage({
        image: {
          id: imageId,
          configSize: configBytes.length,
          created: now,
          os: base.os,
          architecture: base.architecture,
          variant: base.variant ?? null,
          size: (baseImage?.size ?? 0) + layer.uncompressedSize,
          parent: rec.imageId,
        },
        layers: [
          ...baseLayers,
          { chainId, diffId: layer.diffId, parent: chains.at(-2) ?? null, size: layer.uncompressedSize },
        ],
        layerBlobs: [
          {
            diffId: layer.diffId,
            digest: layer.digest,
            mediaType: MediaTypes.OCI_LAYER_GZIP,
            size: layer.size,
          },
        ],
        tag: ref?.tag ? { repository: `${ref.registry}/${ref.repository}`, tag: ref.tag } : undefined,
      });
      return imageId;
    } finally {
      if (pause) await containers.runtime.resume(rec.id).catch(() => {});
      await rm(tmp, { recursive: true, force: true });
    }
  });
}
