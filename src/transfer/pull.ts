import type { LocalStore } from "../images/local-store.js";
import { hostPlatform, type Platform } from "../oci/platform.js";
import { familiarName, type Reference } from "../oci/reference.js";
import type { RemoteRepository } from "../remote/repository.js";
import { type LocalCommit, LocalStoreSink } from "./local-store.js";
import { RegistrySource } from "./registry.js";
import type { TransferEvent } from "./types.js";
import { transfer } from "./walk.js";

export interface PullOptions {
  /** The platform asked for; without one the host's is taken from an index, and a single image is taken as it is. */
  platform?: Platform;
  concurrency?: number;
  onEvent?: (event: TransferEvent) => void;
}

/**
 * A pull: the walk from a registry repository into the local store, one image of an index
 * chosen for the platform (Docker's rule), every layer downloaded and unpacked at once, the
 * repo digest and the blobs' origin recorded for later pushes.
 */
export async function pullImage(
  store: LocalStore,
  repo: RemoteRepository,
  ref: Reference,
  opts: PullOptions = {},
): Promise<LocalCommit> {
  const sink = new LocalStoreSink(store, { origin: { registry: ref.registry, repository: ref.repository } });
  try {
    const { result } = await transfer(new RegistrySource(repo), sink, {
      reference: ref.digest?.toString() ?? ref.tag ?? "latest",
      names: [ref],
      platform: opts.platform ?? hostPlatform(),
      strictPlatform: opts.platform !== undefined,
      concurrency: opts.concurrency,
      onEvent: opts.onEvent,
      label: `${familiarName(ref)}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? "latest"}`}`,
    });
    return result;
  } catch (err) {
    sink.abort();
    throw err;
  }
}
