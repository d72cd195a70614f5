import type { Descriptor } from "../../oci/descriptor.js";
import { Digest, digestOf } from "../../oci/digest.js";
import { type ParsedManifest, parseManifest } from "../../oci/manifest.js";
import { DigestInvalidError, ManifestInvalidError, ManifestUnknownError } from "../domain-errors.js";
import type { RepositoryStore, RevisionRecord } from "../metadata/metadata.js";
import type { BlobService } from "./blobs.js";
import { type CachedManifest, ManifestCache } from "./manifest-cache.js";

export interface StoredManifest extends CachedManifest {
  readonly digest: string;
}

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A manifest reference from a URL, already told apart: a tag, or a digest. */
export type ManifestReference = { tag: string } | { digest: Digest };

/**
 * Manifests: bytes stored as blobs (and cached in memory by digest, since a digest names them for
 * ever), revisions and tags read through the repository store on every request.
 */
export class ManifestService {
  private readonly cache = new ManifestCache(64 * 1024 * 1024);

  constructor(
    private readonly repositories: RepositoryStore,
    private readonly blobs: BlobService,
  ) {}

  /** Resolves a tag or digest to a stored manifest; throws ManifestUnknownError. */
  async get(repository: string, reference: ManifestReference): Promise<StoredManifest> {
    const shown = "tag" in reference ? reference.tag : reference.digest.toString();
    let digest: Digest | undefined;
    if ("tag" in reference) {
      digest = await this.repositories.resolveTag(repository, reference.tag);
    } else if (await this.repositories.revisionExists(repository, reference.digest)) {
      digest = reference.digest;
    }
    if (!digest) throw new ManifestUnknownError(repository, shown);
    const key = digest.toString();
    const cached = this.cache.get(key);
    if (cached) return { ...cached, digest: key };
    const bytes = await this.blobs.readSmall(digest);
    if (!bytes) throw new ManifestUnknownError(repository, shown);
    const entry = { bytes, mediaType: parseManifest(bytes).mediaType };
    this.cache.set(key, entry);
    return { ...entry, digest: key };
  }

  /**
   * Validates and stores a manifest pushed by tag or by digest. Every blob (or child manifest of
   * an index) it references must already be in this repository; nothing is stored otherwise.
   */
  async put(
    repository: string,
    reference: ManifestReference,
    bytes: Buffer,
    contentType: string | undefined,
  ): Promise<{ digest: Digest; parsed: ParsedManifest }> {
    let digest: Digest;
    if ("digest" in reference) {
      digest = reference.digest;
      const actual = digestOf(bytes, digest.algorithm);
      if (!actual.equals(digest)) {
        throw new DigestInvalidError(
          "manifest digest did not match the content",
          digest.toString(),
          actual.toString(),
        );
      }
    } else {
      digest = digestOf(bytes);
    }
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(bytes, contentType);
    } catch (err) {
      throw new ManifestInvalidError(`manifest invalid: ${(err as Error).message}`);
    }
    const record: RevisionRecord = {
      digest,
      mediaType: parsed.mediaType,
      size: bytes.length,
      references: parsed.references.map((ref) => ({
        digest: Digest.parse(ref.digest),
        kind: parsed.kind === "index" ? "manifest" : "blob",
      })),
    };
    if (parsed.subject) {
      record.subject = Digest.parse(parsed.subject.digest);
      record.referrer = referrerDescriptor(parsed, digest, bytes.length);
    }
    // The bytes first: a revision never names a blob that is not there. Unreferenced bytes left
    // by a refused manifest are garbage collection's to remove.
    await this.blobs.putSmall(digest, bytes);
    this.cache.set(digest.toString(), { bytes, mediaType: parsed.mediaType });
    await this.repositories.putRevision(repository, record, "tag" in reference ? reference.tag : undefined);
    return { digest, parsed };
  }

  /** Deletes a tag, or (by digest) a manifest and every tag pointing to it. */
  async delete(repository: string, reference: ManifestReference): Promise<void> {
    const removed =
      "tag" in reference
        ? await this.repositories.deleteTag(repository, reference.tag)
        : await this.repositories.deleteRevision(repository, reference.digest);
    if (!removed) {
      throw new ManifestUnknownError(
        repository,
        "tag" in reference ? reference.tag : reference.digest.toString(),
      );
    }
  }
}

function referrerDescriptor(parsed: ParsedManifest, digest: Digest, size: number): Descriptor {
  const descriptor: Descriptor = { mediaType: parsed.mediaType, digest: digest.toString(), size };
  if (parsed.artifactType) descriptor.artifactType = parsed.artifactType;
  if (parsed.annotations && Object.keys(parsed.annotations).length > 0) {
    descriptor.annotations = parsed.annotations;
  }
  return descriptor;
}
