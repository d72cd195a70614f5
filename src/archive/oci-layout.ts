import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest, Digester } from "../oci/digest.js";
import { type ImageIndex, parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type {
  BlobNode,
  BlobReadOptions,
  BlobStream,
  FetchedManifest,
  ImageSink,
  ImageSource,
  OpenBlob,
} from "../transfer/types.js";
import { verifyBytes } from "../transfer/verify.js";
import { ArchiveError } from "./errors.js";

/** The annotation an OCI layout names its images with (a tag), and the one containerd and Docker add (a full reference). */
export const REF_NAME = "org.opencontainers.image.ref.name";
export const CONTAINERD_NAME = "io.containerd.image.name";

export function blobPath(dir: string, digest: string): string {
  const d = Digest.parse(digest);
  return join(dir, "blobs", d.algorithm, d.hex);
}

/** The references an index.json entry gives its image: a full name (Docker, containerd) or a "name:tag" ref.name. */
export function namesOf(desc: Descriptor): Reference[] {
  const name = desc.annotations?.[CONTAINERD_NAME] ?? desc.annotations?.[REF_NAME];
  if (!name || !(name.includes(":") || name.includes("/"))) return [];
  try {
    return [parseReference(name)];
  } catch {
    return [];
  }
}

/** An OCI image layout directory (index.json, blobs/) read as an image source. */
export class OciLayoutSource implements ImageSource {
  readonly description: string;
  private indexCache?: ImageIndex;

  constructor(readonly dir: string) {
    this.description = `OCI layout ${dir}`;
  }

  async index(): Promise<ImageIndex> {
    if (this.indexCache) return this.indexCache;
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, "index.json"));
    } catch {
      throw new ArchiveError(`${this.dir} is not an OCI layout: it has no index.json`);
    }
    try {
      const parsed = parseManifest(bytes, MediaTypes.OCI_INDEX);
      if (parsed.kind !== "index") throw new ArchiveError("not an index");
      this.indexCache = parsed.value;
      return parsed.value;
    } catch (err) {
      throw new ArchiveError(`index.json is not a valid OCI index: ${(err as Error).message}`);
    }
  }

  /** A digest, or a tag as the layout's ref.name annotations give them ("" takes the only image). */
  async resolve(reference: string): Promise<FetchedManifest> {
    const index = await this.index();
    let desc: Descriptor | undefined;
    if (Digest.isValid(reference)) desc = index.manifests.find((m) => m.digest === reference);
    else if (reference === "" && index.manifests.length === 1) desc = index.manifests[0];
    else {
      desc = index.manifests.find(
        (m) =>
          m.annotations?.[REF_NAME] === reference ||
          m.annotations?.[CONTAINERD_NAME]?.endsWith(`:${reference}`),
      );
    }
    if (!desc) {
      throw new ArchiveError(
        reference === ""
          ? `${this.dir} holds ${index.manifests.length} images: name one`
          : `${this.dir} has no image ${JSON.stringify(reference)}`,
      );
    }
    return this.manifest(desc);
  }

  async manifest(desc: Descriptor): Promise<FetchedManifest> {
    let bytes: Buffer;
    try {
      bytes = await readFile(blobPath(this.dir, desc.digest));
    } catch {
      throw new ArchiveError(`the archive has no manifest ${desc.digest}`);
    }
    verifyBytes(desc, bytes, "manifest");
    return { descriptor: desc, bytes, parsed: parseManifest(bytes, desc.mediaType) };
  }

  /** A blob of the layout; a foreign layer the layout does not hold comes from its URLs. */
  async blob(desc: Descriptor, opts: BlobReadOptions = {}): Promise<BlobStream> {
    const path = blobPath(this.dir, desc.digest);
    if (!(await stat(path).catch(() => undefined))?.isFile()) {
      // The HTTP client is loaded only for a foreign layer: reading a layout should not pay for it.
      if (desc.urls && desc.urls.length > 0)
        return (await import("../transfer/foreign.js")).fetchForeignLayer(desc, opts.offset ?? 0);
      throw new ArchiveError(`the archive has no blob ${desc.digest}`);
    }
    const offset = opts.offset ?? 0;
    return { stream: createReadStream(path, { start: offset, highWaterMark: 1024 * 1024 }), offset };
  }
}

/**
 * An OCI image layout directory written as an image sink: each blob hashed while written under
 * a temporary name and renamed into blobs/ once verified; index.json rewritten atomically at
 * each commit, the image named by its tag in `org.opencontainers.image.ref.name` (an entry of
 * the same name is replaced, as skopeo does).
 */
export class OciLayoutSink implements ImageSink<Descriptor> {
  readonly description: string;
  readonly takesForeignLayers = true;

  constructor(readonly dir: string) {
    this.description = `OCI layout ${dir}`;
  }

  async has(node: BlobNode): Promise<boolean> {
    return (await stat(blobPath(this.dir, node.desc.digest)).catch(() => undefined))?.size === node.desc.size;
  }

  async putBlob(node: BlobNode, open: OpenBlob): Promise<"pushed"> {
    await this.write(node.desc, (await open()).stream);
    return "pushed";
  }

  async putManifest(manifest: FetchedManifest): Promise<void> {
    await this.write(manifest.descriptor, [manifest.bytes]);
  }

  async commit(root: FetchedManifest, names: Reference[]): Promise<Descriptor> {
    await this.write(root.descriptor, [root.bytes]);
    const index = await this.readIndex();
    const entry: Descriptor = {
      mediaType: root.parsed.mediaType,
      digest: root.descriptor.digest,
      size: root.bytes.length,
    };
    const tag = names.find((n) => n.tag)?.tag;
    if (tag) entry.annotations = { [REF_NAME]: tag };
    const manifests = index.manifests.filter((m) =>
      tag ? m.annotations?.[REF_NAME] !== tag : m.digest !== entry.digest,
    );
    manifests.push(entry);
    await writeAtomically(join(this.dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await writeAtomically(
      join(this.dir, "index.json"),
      JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.OCI_INDEX, manifests }),
    );
    return entry;
  }

  private async readIndex(): Promise<ImageIndex> {
    try {
      const parsed = parseManifest(await readFile(join(this.dir, "index.json")), MediaTypes.OCI_INDEX);
      if (parsed.kind === "index") return parsed.value;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new ArchiveError(`${this.dir}/index.json is not a valid OCI index: ${(err as Error).message}`);
      }
    }
    return { schemaVersion: 2, manifests: [] };
  }

  private async write(desc: Descriptor, chunks: AsyncIterable<Buffer> | Buffer[]): Promise<void> {
    const final = blobPath(this.dir, desc.digest);
    if ((await stat(final).catch(() => undefined))?.size === desc.size) return;
    await mkdir(join(final, ".."), { recursive: true });
    const tmp = `${final}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const handle = await open(tmp, "wx", 0o644);
    const digester = new Digester(Digest.parse(desc.digest).algorithm);
    let size = 0;
    try {
      for await (const chunk of chunks) {
        digester.update(chunk);
        size += chunk.length;
        await handle.write(chunk);
      }
      await handle.close();
      const actual = digester.digest();
      if (size !== desc.size || !actual.equals(desc.digest)) {
        throw new ArchiveError(
          `blob ${desc.digest} arrived as ${size} bytes with digest ${actual}: refused, nothing written`,
        );
      }
      await rename(tmp, final);
    } catch (err) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
  }
}

async function writeAtomically(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
