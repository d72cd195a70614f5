import type { Readable } from "node:stream";
import type { Descriptor } from "../oci/descriptor.js";
import { parseManifest } from "../oci/manifest.js";
import type { Reference } from "../oci/reference.js";
import type { RemoteRepository } from "../remote/repository.js";
import { fetchForeignLayer } from "./foreign.js";
import { skipBytes } from "./streams.js";
import type {
  BlobNode,
  BlobReadOptions,
  BlobReporter,
  BlobStream,
  FetchedManifest,
  ImageSink,
  ImageSource,
  OpenBlob,
} from "./types.js";
import { verifyBytes } from "./verify.js";

/** A registry repository read as an image source (pull, copy). */
export class RegistrySource implements ImageSource {
  readonly description: string;

  constructor(readonly repo: RemoteRepository) {
    this.description = repo.description;
  }

  async resolve(reference: string): Promise<FetchedManifest> {
    const m = await this.repo.getManifest(reference);
    const parsed = parseManifest(m.bytes, m.mediaType || undefined);
    return {
      descriptor: { mediaType: parsed.mediaType, digest: m.digest.toString(), size: m.bytes.length },
      bytes: m.bytes,
      parsed,
    };
  }

  async manifest(desc: Descriptor): Promise<FetchedManifest> {
    const m = await this.repo.getManifest(desc.digest);
    verifyBytes(desc, m.bytes, "manifest");
    return { descriptor: desc, bytes: m.bytes, parsed: parseManifest(m.bytes, m.mediaType || undefined) };
  }

  /** A blob from the registry; a foreign layer from the URLs its descriptor lists, as Docker fetches them. */
  async blob(desc: Descriptor, opts: BlobReadOptions = {}): Promise<BlobStream> {
    if (desc.urls && desc.urls.length > 0) return fetchForeignLayer(desc, opts.offset ?? 0);
    const blob = await this.repo.getBlob(desc.digest, opts.offset ?? 0, desc.size);
    return { stream: blob.stream as Readable & AsyncIterable<Buffer>, offset: blob.offset };
  }
}

export interface PushResult {
  /** The root's digest, as the registry answered it. */
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * A registry repository written as an image sink (push, copy): blobs the repository has are
 * skipped (HEAD), blobs another repository of the registry holds are mounted, the rest are
 * uploaded (resumed after a failure); manifests go by digest, and the root by tag.
 */
export class RegistrySink implements ImageSink<PushResult> {
  readonly description: string;
  readonly takesForeignLayers = false;

  constructor(
    readonly repo: RemoteRepository,
    /** Repositories of the same registry known to hold a blob, best first, for cross-repository mounts. */
    private readonly mountSources: (digest: string) => string[] = () => [],
  ) {
    this.description = repo.description;
  }

  async has(node: BlobNode): Promise<boolean> {
    return (await this.repo.headBlob(node.desc.digest)) !== undefined;
  }

  async putBlob(node: BlobNode, open: OpenBlob, report: BlobReporter): Promise<"pushed" | "mounted"> {
    const from = this.mountSources(node.desc.digest).find((r) => r !== this.repo.name);
    const how = await this.repo.putBlob(
      node.desc.digest,
      node.desc.size,
      async (offset) => {
        const blob = await open({ offset, reusedBuffers: true });
        // A source that cannot seek gives everything: drop what the registry already has.
        return blob.offset === offset ? blob.stream : skipBytes(blob.stream, offset - blob.offset);
      },
      {
        mountFrom: from,
        onProgress: (sent) => report("transferring", sent, node.desc.size),
      },
    );
    if (how === "mounted") report("mounted", undefined, undefined, from);
    return how;
  }

  async putManifest(manifest: FetchedManifest): Promise<void> {
    await this.repo.putManifest(undefined, manifest.bytes, manifest.parsed.mediaType);
  }

  async commit(root: FetchedManifest, names: Reference[]): Promise<PushResult> {
    const tag = names.find((n) => n.tag && !n.digest)?.tag;
    const digest = await this.repo.putManifest(tag, root.bytes, root.parsed.mediaType);
    return { digest, mediaType: root.parsed.mediaType, size: root.bytes.length };
  }
}
