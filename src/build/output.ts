import { Readable } from "node:stream";
import { imageManifest } from "../images/commit.js";
import type { LocalStore } from "../images/local-store.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest, digestOf } from "../oci/digest.js";
import { parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import type { BlobStream, FetchedManifest, ImageSource } from "../transfer/types.js";
import type { BuildResult } from "./builder.js";

/**
 * A build's result as an image source, without recording it in the store: its manifest and
 * config from memory, its layers' blobs from the content store. `--output` walks it into an
 * archive, as `save` walks a stored image.
 */
export class BuildResultSource implements ImageSource {
  readonly description = "build result";
  readonly manifestBytes: Buffer;
  readonly manifestDigest: string;

  constructor(
    private readonly store: LocalStore,
    private readonly result: BuildResult,
  ) {
    this.manifestBytes = imageManifest(result.config, result.layers);
    this.manifestDigest = digestOf(this.manifestBytes).toString();
  }

  async resolve(_reference: string): Promise<FetchedManifest> {
    return {
      descriptor: {
        mediaType: MediaTypes.OCI_MANIFEST,
        digest: this.manifestDigest,
        size: this.manifestBytes.length,
      },
      bytes: this.manifestBytes,
      parsed: parseManifest(this.manifestBytes, MediaTypes.OCI_MANIFEST),
    };
  }

  async manifest(desc: Descriptor): Promise<FetchedManifest> {
    throw new Error(`a build result has no child manifest ${desc.digest}`);
  }

  async blob(desc: Descriptor): Promise<BlobStream> {
    if (desc.digest === this.result.imageId)
      return { stream: Readable.from([this.result.config]), offset: 0 };
    return { stream: await this.store.content.reader(Digest.parse(desc.digest)), offset: 0 };
  }
}
