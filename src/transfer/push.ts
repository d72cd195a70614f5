import type { LocalStore } from "../images/local-store.js";
import { formatReference, type Reference } from "../oci/reference.js";
import type { RemoteRepository } from "../remote/repository.js";
import { LocalStoreSource } from "./local-store.js";
import { type PushResult, RegistrySink } from "./registry.js";
import type { TransferEvent } from "./types.js";
import { transfer } from "./walk.js";

export interface PushOptions {
  compression?: "gzip" | "zstd";
  concurrency?: number;
  onEvent?: (event: TransferEvent) => void;
}

/**
 * A push: the walk from the local store into a registry repository, blobs another repository
 * of the registry is known to hold mounted from it; afterwards the pushed digest is recorded
 * as a repo digest of the image, and the repository as a source of its blobs.
 */
export async function pushImage(
  store: LocalStore,
  repo: RemoteRepository,
  ref: Reference,
  opts: PushOptions = {},
): Promise<PushResult> {
  const sink = new RegistrySink(repo, (digest) => store.db.blobSources(digest, ref.registry));
  const { result, images } = await transfer(
    new LocalStoreSource(store, { compression: opts.compression }),
    sink,
    {
      reference: formatReference(ref),
      names: [ref],
      concurrency: opts.concurrency,
      onEvent: opts.onEvent,
    },
  );
  const manifest = images[0]!.manifest.parsed.value;
  const imageId = manifest.config.digest;
  const repository = `${ref.registry}/${ref.repository}`;
  store.db.write(() => {
    store.db.addRepoDigest(repository, result.digest, imageId);
    for (const d of [manifest.config, ...manifest.layers])
      store.db.addBlobSource(d.digest, ref.registry, ref.repository);
  });
  return result;
}
