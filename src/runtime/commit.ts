import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { imageLayerBlobs } from "../images/blobs.js";
import { CommitError, chainIdOf, commitImage, recordLayer } from "../images/commit.js";
import { imageConfig } from "../images/describe.js";
import { Lease } from "../images/leases.js";
import { createLayerFromDirectory } from "../layer/create.js";
import { unpackLayer } from "../layer/unpack.js";
import { Digest } from "../oci/digest.js";
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
    const tmp = await store.makeTmpDir("commit");
    // Held from before each piece is written until the image is recorded: a concurrent rmi or
    // prune must not take the new layer or its blob in between.
    const lease = Lease.open(store.db);
    try {
      const { stream, result } = createLayerFromDirectory(paths.upper, { compression: "gzip" });
      await pipeline(stream, createWriteStream(join(tmp, "layer")));
      const layer = await result;
      if (pause) {
        pause = false;
        await containers.runtime.resume(rec.id);
      }
      lease.hold("blob", layer.digest);
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
      const config: ImageConfig = {
        architecture: base.architecture,
        os: base.os,
        ...(base.variant ? { variant: base.variant } : {}),
        created: now,
        ...(opts.author ? { author: opts.author } : {}),
        config: containerConfig,
        rootfs: { type: "layers", diff_ids: [...base.rootfs.diff_ids, layer.diffId] },
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

      const baseRecords = store.db.imageLayers(rec.imageId);
      const parent = baseRecords.at(-1)?.chainId ?? null;
      for (const r of baseRecords) lease.hold("layer", r.chainId);
      lease.hold("layer", chainIdOf(parent, layer.diffId));
      const baseBlobs = await imageLayerBlobs(store, rec.imageId, base.rootfs.diff_ids);
      if (!baseBlobs) throw new CommitError(`a layer of image ${rec.imageId} has no blob in the store`);
      const blob = { digest: layer.digest, mediaType: MediaTypes.OCI_LAYER_GZIP, size: layer.size };
      const unpacked = join(tmp, "unpacked");
      await mkdir(join(unpacked, "diff"), { recursive: true });
      await unpackLayer({
        source: await store.content.reader(Digest.parse(layer.digest)),
        dest: join(unpacked, "diff"),
        expectedDiffId: layer.diffId,
      });
      const record = await recordLayer(store, {
        dir: unpacked,
        diffId: layer.diffId,
        parent,
        size: layer.contentSize,
        blob,
      });
      const ref = opts.reference;
      const { imageId } = await commitImage(store, {
        config: Buffer.from(JSON.stringify(config)),
        layers: [
          ...baseRecords.map((r, i) => ({ record: r, blob: baseBlobs[i]! })),
          { record, blob: { diffId: layer.diffId, ...blob } },
        ],
        tags: ref?.tag ? [{ repository: `${ref.registry}/${ref.repository}`, tag: ref.tag }] : [],
        parent: rec.imageId,
      });
      return imageId;
    } finally {
      lease.release();
      if (pause) await containers.runtime.resume(rec.id).catch(() => {});
      await rm(tmp, { recursive: true, force: true });
    }
  });
}
