import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest, Digester } from "../oci/digest.js";
import { MediaTypes } from "../oci/media-types.js";
import { familiarString, formatReference, type Reference } from "../oci/reference.js";
import { Semaphore } from "../transfer/semaphore.js";
import type { BlobNode, FetchedManifest, ImageSink, OpenBlob } from "../transfer/types.js";
import { ArchiveError } from "./errors.js";
import { CONTAINERD_NAME, REF_NAME } from "./oci-layout.js";

const EPOCH = new Date(0);

function member(digest: string): string {
  const d = Digest.parse(digest);
  return `blobs/${d.algorithm}/${d.hex}`;
}

/**
 * A tar archive written as an image sink, streamed (every blob once under blobs/ALG/HEX, its
 * size known up front, its digest checked as it goes): an OCI layout (oci-layout, index.json),
 * and with `docker` also a docker-archive over the same blobs (manifest.json, repositories), as
 * Docker 25+ writes `docker save`. A tar takes one entry at a time, so blobs queue for it.
 * `close` writes the index files and ends the archive.
 */
export class TarArchiveSink implements ImageSink<Descriptor> {
  readonly description = "archive";
  readonly takesForeignLayers = true;
  private readonly tar = pack();
  private readonly done: Promise<void>;
  private readonly turn = new Semaphore(1);
  private readonly written = new Set<string>();
  private readonly index: Descriptor[] = [];
  private readonly dockerManifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  private readonly repositories: Record<string, Record<string, string>> = {};

  constructor(
    out: Writable,
    private readonly format: { docker: boolean },
  ) {
    this.done = pipeline(this.tar, out);
    // A failure is also seen through close() or abort(); this keeps it from being "unhandled".
    this.done.catch(() => {});
  }

  async has(node: BlobNode): Promise<boolean> {
    return this.written.has(node.desc.digest);
  }

  async putBlob(node: BlobNode, open: OpenBlob): Promise<"pushed"> {
    await this.entry(node.desc, (await open()).stream);
    return "pushed";
  }

  async putManifest(manifest: FetchedManifest): Promise<void> {
    await this.entry(manifest.descriptor, [manifest.bytes]);
  }

  async commit(root: FetchedManifest, names: Reference[]): Promise<Descriptor> {
    await this.entry(root.descriptor, [root.bytes]);
    const base: Descriptor = {
      mediaType: root.parsed.mediaType,
      digest: root.descriptor.digest,
      size: root.bytes.length,
    };
    if (names.length === 0) this.index.push(base);
    for (const name of names) {
      this.index.push({
        ...base,
        annotations: { [CONTAINERD_NAME]: formatReference(name), [REF_NAME]: name.tag ?? "latest" },
      });
    }
    // manifest.json has no place for an index: a multi-platform image is in index.json only,
    // which Docker 25+, skopeo and Berth read.
    if (this.format.docker && root.parsed.kind === "manifest") {
      const manifest = root.parsed.value;
      this.dockerManifest.push({
        Config: member(manifest.config.digest),
        RepoTags: names.length > 0 ? names.map(familiarString) : null,
        Layers: manifest.layers.map((l) => member(l.digest)),
      });
      const top = manifest.layers.at(-1)?.digest ?? manifest.config.digest;
      for (const name of names) {
        const repository = familiarString({ ...name, tag: undefined, digest: undefined });
        this.repositories[repository] = {
          ...this.repositories[repository],
          [name.tag ?? "latest"]: Digest.parse(top).hex,
        };
      }
    }
    return base;
  }

  /** Writes the index files and ends the archive. */
  async close(): Promise<void> {
    await this.file(
      "index.json",
      JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.OCI_INDEX, manifests: this.index }),
    );
    if (this.format.docker) await this.file("manifest.json", JSON.stringify(this.dockerManifest));
    await this.file("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    if (this.format.docker && Object.keys(this.repositories).length > 0) {
      await this.file("repositories", JSON.stringify(this.repositories));
    }
    this.tar.finalize();
    await this.done;
  }

  /** Ends the archive broken, so that what it is written to can be thrown away. */
  async abort(err: Error): Promise<void> {
    this.tar.destroy(err);
    await this.done.catch(() => {});
  }

  private async entry(desc: Descriptor, chunks: AsyncIterable<Buffer> | Buffer[]): Promise<void> {
    const release = await this.turn.acquire();
    try {
      if (this.written.has(desc.digest)) return;
      const entry = this.tar.entry({ name: member(desc.digest), size: desc.size, mode: 0o644, mtime: EPOCH });
      const digester = new Digester(Digest.parse(desc.digest).algorithm);
      await pipeline(async function* () {
        for await (const chunk of chunks) {
          digester.update(chunk);
          yield chunk;
        }
      }, entry);
      if (!digester.digest().equals(desc.digest)) {
        throw new ArchiveError(
          `blob ${desc.digest} changed while it was being written: the archive is not usable`,
        );
      }
      this.written.add(desc.digest);
    } finally {
      release();
    }
  }

  private async file(name: string, data: string): Promise<void> {
    const release = await this.turn.acquire();
    try {
      await new Promise<void>((resolve, reject) =>
        this.tar.entry({ name, mode: 0o644, mtime: EPOCH }, data, (err) => (err ? reject(err) : resolve())),
      );
    } finally {
      release();
    }
  }
}
