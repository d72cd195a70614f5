import type { Readable } from "node:stream";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest, digestOf } from "../oci/digest.js";
import { type ParsedManifest, parseManifest } from "../oci/manifest.js";
import { PathNotFoundError, type StorageDriver } from "../storage/driver.js";
import { RegistryError } from "./errors.js";
import { layout, RESERVED_DIRS } from "./layout.js";
import { type CachedManifest, ManifestCache } from "./manifest-cache.js";

export interface StoredManifest extends CachedManifest {
  readonly digest: string;
}

interface RepoState {
  /** tag -> manifest digest; loaded from storage on first use. */
  tags?: Map<string, string>;
  sortedTags?: string[];
  /** Positive caches: links known to exist. Only this process writes the store, so they stay true until it deletes them. */
  readonly revisions: Set<string>;
  readonly layers: Set<string>;
}

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * The registry's view of its storage: global blobs, per-repository links, tags, manifests and
 * referrers. It owns its root: metadata is cached in memory, so one server process per root.
 */
export class RegistryStore {
  private readonly repos = new Map<string, RepoState>();
  private readonly manifests = new ManifestCache(64 * 1024 * 1024);
  private readonly blobSizes = new Map<string, number>();
  private catalog?: Set<string>;
  private sortedCatalog?: string[];

  constructor(readonly driver: StorageDriver) {}

  private repo(name: string): RepoState {
    let state = this.repos.get(name);
    if (!state) {
      state = { revisions: new Set(), layers: new Set() };
      this.repos.set(name, state);
    }
    return state;
  }

  // ---- blobs -------------------------------------------------------------------------------

  /** Size of a blob in the global store, or undefined. */
  async blobSize(digest: Digest): Promise<number | undefined> {
    const key = digest.toString();
    const cached = this.blobSizes.get(key);
    if (cached !== undefined) return cached;
    const info = await statOrUndefined(this.driver, layout.blobData(digest));
    if (!info || info.isDir) return undefined;
    this.blobSizes.set(key, info.size);
    return info.size;
  }

  /** Whether a blob is linked into the repository (pushed or mounted there) and present. */
  async repoBlobSize(name: string, digest: Digest): Promise<number | undefined> {
    const state = this.repo(name);
    const key = digest.toString();
    if (!state.layers.has(key)) {
      if (!(await exists(this.driver, layout.layerLink(name, digest)))) return undefined;
      state.layers.add(key);
    }
    return this.blobSize(digest);
  }

  openBlob(digest: Digest, start?: number, end?: number): Promise<Readable> {
    return this.driver.reader(layout.blobData(digest), start, end);
  }

  async linkBlob(name: string, digest: Digest): Promise<void> {
    const state = this.repo(name);
    const key = digest.toString();
    if (state.layers.has(key)) return;
    await this.driver.putContent(layout.layerLink(name, digest), Buffer.from(key));
    state.layers.add(key);
  }

  /** Removes a blob from a repository. The global blob stays until garbage collection. */
  async unlinkBlob(name: string, digest: Digest): Promise<boolean> {
    if ((await this.repoBlobSize(name, digest)) === undefined) return false;
    this.repo(name).layers.delete(digest.toString());
    await deleteIfExists(this.driver, layout.layerLinkDir(name, digest));
    return true;
  }

  /**
   * Moves verified upload data into the global blob store. The rename is atomic, so a blob is
   * either wholly visible or absent; when the blob already exists the upload is simply dropped.
   */
  async commitBlob(dataPath: string, digest: Digest, size: number): Promise<void> {
    if ((await this.blobSize(digest)) === undefined) {
      await this.driver.move(dataPath, layout.blobData(digest));
    }
    this.blobSizes.set(digest.toString(), size);
  }

  private async putSmallBlob(digest: Digest, bytes: Uint8Array): Promise<void> {
    if ((await this.blobSize(digest)) !== undefined) return;
    await this.driver.putContent(layout.blobData(digest), bytes);
    this.blobSizes.set(digest.toString(), bytes.length);
  }

  // ---- manifests ---------------------------------------------------------------------------

  async hasRevision(name: string, digest: Digest): Promise<boolean> {
    const state = this.repo(name);
    const key = digest.toString();
    if (state.revisions.has(key)) return true;
    if (!(await exists(this.driver, layout.revisionLink(name, digest)))) return false;
    state.revisions.add(key);
    return true;
  }

  /** Resolves a tag or digest reference to a stored manifest, or throws MANIFEST_UNKNOWN. */
  async getManifest(name: string, reference: string): Promise<StoredManifest> {
    const digest = await this.resolve(name, reference);
    const key = digest.toString();
    const cached = this.manifests.get(key);
    if (cached) return { ...cached, digest: key };
    let bytes: Buffer;
    try {
      bytes = await this.driver.getContent(layout.blobData(digest));
    } catch (err) {
      if (err instanceof PathNotFoundError) throw manifestUnknown(name, reference);
      throw err;
    }
    const entry = { bytes, mediaType: parseManifest(bytes).mediaType };
    this.manifests.set(key, entry);
    return { ...entry, digest: key };
  }

  private async resolve(name: string, reference: string): Promise<Digest> {
    if (reference.includes(":")) {
      const digest = parseDigestParam(reference);
      if (!(await this.hasRevision(name, digest))) throw manifestUnknown(name, reference);
      return digest;
    }
    const tags = await this.loadTags(name);
    const target = tags.get(reference);
    if (target === undefined) throw manifestUnknown(name, reference);
    return Digest.parse(target);
  }

  /**
   * Validates and stores a manifest pushed by tag or by digest. Every blob (or child manifest of
   * an index) it references must already be in this repository; nothing is stored otherwise.
   */
  async putManifest(
    name: string,
    reference: string,
    bytes: Buffer,
    contentType: string | undefined,
  ): Promise<{ digest: Digest; parsed: ParsedManifest }> {
    const byDigest = reference.includes(":");
    const digest = byDigest ? parseDigestParam(reference) : digestOf(bytes);
    if (byDigest && !digestOf(bytes, digest.algorithm).equals(digest)) {
      throw new RegistryError("DIGEST_INVALID", "manifest digest did not match the content", {
        expected: digest.toString(),
        actual: digestOf(bytes, digest.algorithm).toString(),
      });
    }
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(bytes, contentType);
    } catch (err) {
      throw new RegistryError("MANIFEST_INVALID", `manifest invalid: ${(err as Error).message}`);
    }
    await this.checkReferences(name, parsed);

    await this.putSmallBlob(digest, bytes);
    this.manifests.set(digest.toString(), { bytes, mediaType: parsed.mediaType });
    if (!(await this.hasRevision(name, digest))) {
      await this.driver.putContent(layout.revisionLink(name, digest), Buffer.from(digest.toString()));
      this.repo(name).revisions.add(digest.toString());
    }
    if (parsed.subject) await this.addReferrer(name, parsed, digest, bytes.length);
    if (!byDigest) await this.setTag(name, reference, digest);
    this.addToCatalog(name);
    return { digest, parsed };
  }

  private async checkReferences(name: string, parsed: ParsedManifest): Promise<void> {
    for (const ref of parsed.references) {
      const d = Digest.parse(ref.digest);
      const present =
        parsed.kind === "index"
          ? await this.hasRevision(name, d)
          : (await this.repoBlobSize(name, d)) !== undefined;
      if (!present) {
        throw new RegistryError(
          "MANIFEST_BLOB_UNKNOWN",
          `manifest references ${parsed.kind === "index" ? "a manifest" : "a blob"} unknown to this repository: ${ref.digest}`,
          { digest: ref.digest },
        );
      }
    }
  }

  /** Deletes a tag (reference is a tag) or a manifest and every tag pointing to it (a digest). */
  async deleteManifest(name: string, reference: string): Promise<void> {
    if (!reference.includes(":")) {
      const tags = await this.loadTags(name);
      if (!tags.has(reference)) throw manifestUnknown(name, reference);
      await deleteIfExists(this.driver, layout.tagDir(name, reference));
      tags.delete(reference);
      this.repo(name).sortedTags = undefined;
      return;
    }
    const digest = parseDigestParam(reference);
    if (!(await this.hasRevision(name, digest))) throw manifestUnknown(name, reference);
    const stored = await this.getManifest(name, reference).catch(() => undefined);
    const tags = await this.loadTags(name);
    for (const [tag, target] of tags) {
      if (target !== digest.toString()) continue;
      await deleteIfExists(this.driver, layout.tagDir(name, tag));
      tags.delete(tag);
    }
    const state = this.repo(name);
    state.sortedTags = undefined;
    state.revisions.delete(digest.toString());
    await deleteIfExists(this.driver, layout.revisionDir(name, digest));
    if (stored) {
      const subject = safeParse(stored.bytes)?.subject;
      if (subject) {
        await deleteIfExists(this.driver, layout.referrerEntry(name, Digest.parse(subject.digest), digest));
      }
    }
  }

  // ---- tags --------------------------------------------------------------------------------

  private async loadTags(name: string): Promise<Map<string, string>> {
    const state = this.repo(name);
    if (state.tags) return state.tags;
    const tags = new Map<string, string>();
    const names = await listOrEmpty(this.driver, layout.tagsDir(name));
    await Promise.all(
      names.map(async (tag) => {
        try {
          const link = (await this.driver.getContent(layout.tagLink(name, tag))).toString("utf8").trim();
          if (Digest.isValid(link)) tags.set(tag, link);
        } catch (err) {
          if (!(err instanceof PathNotFoundError)) throw err;
        }
      }),
    );
    state.tags = tags;
    return tags;
  }

  private async setTag(name: string, tag: string, digest: Digest): Promise<void> {
    const tags = await this.loadTags(name);
    if (tags.get(tag) === digest.toString()) return;
    await this.driver.putContent(layout.tagLink(name, tag), Buffer.from(digest.toString()));
    tags.set(tag, digest.toString());
    this.repo(name).sortedTags = undefined;
  }

  /** Sorted tags of a repository, or undefined when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    const state = this.repo(name);
    if (state.sortedTags) return state.sortedTags;
    if (!(await this.repositoryExists(name))) return undefined;
    const tags = await this.loadTags(name);
    state.sortedTags = [...tags.keys()].sort();
    return state.sortedTags;
  }

  async repositoryExists(name: string): Promise<boolean> {
    await this.listRepositories();
    return this.catalog!.has(name);
  }

  // ---- catalog -----------------------------------------------------------------------------

  async listRepositories(): Promise<string[]> {
    if (!this.catalog) this.catalog = new Set(await this.walkRepositories(layout.repositories(), ""));
    if (!this.sortedCatalog) this.sortedCatalog = [...this.catalog].sort();
    return this.sortedCatalog;
  }

  private addToCatalog(name: string): void {
    if (!this.catalog || this.catalog.has(name)) return;
    this.catalog.add(name);
    this.sortedCatalog = undefined;
  }

  private async walkRepositories(path: string, prefix: string): Promise<string[]> {
    const children = await listOrEmpty(this.driver, path);
    const found: string[] = [];
    if (prefix && children.includes("_manifests")) found.push(prefix);
    for (const child of children) {
      if (RESERVED_DIRS.has(child) || child.startsWith(".")) continue;
      const childPath = `${path}/${child}`;
      const info = await statOrUndefined(this.driver, childPath);
      if (!info?.isDir) continue;
      found.push(...(await this.walkRepositories(childPath, prefix ? `${prefix}/${child}` : child)));
    }
    return found;
  }

  // ---- referrers ---------------------------------------------------------------------------

  private async addReferrer(
    name: string,
    parsed: ParsedManifest,
    digest: Digest,
    size: number,
  ): Promise<void> {
    const subject = Digest.parse(parsed.subject!.digest);
    const descriptor: Descriptor = { mediaType: parsed.mediaType, digest: digest.toString(), size };
    if (parsed.artifactType) descriptor.artifactType = parsed.artifactType;
    if (parsed.annotations && Object.keys(parsed.annotations).length > 0) {
      descriptor.annotations = parsed.annotations;
    }
    await this.driver.putContent(
      layout.referrerEntry(name, subject, digest),
      Buffer.from(JSON.stringify(descriptor)),
    );
  }

  async listReferrers(name: string, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    const entries = await listOrEmpty(this.driver, layout.referrersDir(name, subject));
    const out: Descriptor[] = [];
    for (const entry of entries.sort()) {
      const [alg, hex] = entry.split("-");
      if (!alg || !hex || !Digest.isValid(`${alg}:${hex}`)) continue;
      const digest = Digest.parse(`${alg}:${hex}`);
      if (!(await this.hasRevision(name, digest))) continue;
      try {
        const raw = await this.driver.getContent(layout.referrerEntry(name, subject, digest));
        const descriptor = JSON.parse(raw.toString("utf8")) as Descriptor;
        if (artifactType === undefined || descriptor.artifactType === artifactType) out.push(descriptor);
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
      }
    }
    return out;
  }
}

export function parseDigestParam(value: string): Digest {
  try {
    return Digest.parse(value);
  } catch (err) {
    throw new RegistryError("DIGEST_INVALID", `invalid digest: ${(err as Error).message}`, { digest: value });
  }
}

function manifestUnknown(name: string, reference: string): RegistryError {
  return new RegistryError("MANIFEST_UNKNOWN", `manifest unknown: ${name}:${reference}`, {
    name,
    reference,
  });
}

function safeParse(bytes: Buffer): ParsedManifest | undefined {
  try {
    return parseManifest(bytes);
  } catch {
    return undefined;
  }
}

async function statOrUndefined(driver: StorageDriver, path: string) {
  try {
    return await driver.stat(path);
  } catch (err) {
    if (err instanceof PathNotFoundError) return undefined;
    throw err;
  }
}

async function exists(driver: StorageDriver, path: string): Promise<boolean> {
  return (await statOrUndefined(driver, path)) !== undefined;
}

export async function listOrEmpty(driver: StorageDriver, path: string): Promise<string[]> {
  try {
    return await driver.list(path);
  } catch (err) {
    if (err instanceof PathNotFoundError) return [];
    throw err;
  }
}

export async function deleteIfExists(driver: StorageDriver, path: string): Promise<void> {
  try {
    await driver.delete(path);
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err;
  }
}
