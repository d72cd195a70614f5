import type { Descriptor } from "../../oci/descriptor.js";
import type { Digest } from "../../oci/digest.js";

/**
 * Everything about the registry that can change (repository links, manifest revisions and their
 * references, tags, referrers, upload sessions, blobs' last use, the GC lock), cut by consumer
 * into small interfaces: the API's read and write paths use a RepositoryStore, uploads their
 * UploadSessions, garbage collection its GcStore. Every call reads or writes the shared source of
 * truth, never a process-local copy, so any number of replicas over one store agree at once.
 * Bytes live in the storage driver; only what a digest names (and so cannot change) may be cached
 * above these interfaces.
 *
 * Implementations: `embedded/` keeps it all as link files inside the filesystem driver's tree
 * (distribution's layout, the zero-setup default), `postgres/` in PostgreSQL for several replicas
 * over object storage. test/registry/metadata/contract.ts is the behaviour both must show.
 *
 * A consumer to come (retention, quotas, a webhook event queue, a scan queue) gets an interface
 * of its own here and a member of RegistryMetadata, implemented by both stores.
 */
export interface RegistryMetadata {
  readonly kind: "embedded" | "postgres";
  readonly repositories: RepositoryStore;
  readonly uploads: UploadSessions;
  readonly gc: GcStore;
  /** Settings every replica must share (a generated token key); absent when nothing is shared. */
  readonly settings?: SharedSettings;
  close(): Promise<void>;
}

/** What one manifest needs from its repository, recorded when it is pushed. */
export interface ManifestReference {
  digest: Digest;
  /** A config or layer must be linked into the repository; an index's child must be a revision there. */
  kind: "blob" | "manifest";
}

export interface RevisionRecord {
  digest: Digest;
  mediaType: string;
  size: number;
  references: ManifestReference[];
  /** The manifest this one refers to (OCI-Subject), and its entry in the referrers API. */
  subject?: Digest;
  referrer?: Descriptor;
}

/**
 * Blobs' records, repository links, manifest revisions, tags and referrers: what serving and
 * pushing images reads and writes.
 */
export interface RepositoryStore {
  /** Size of a blob in the global store, or undefined when absent. */
  blobSize(digest: Digest): Promise<number | undefined>;
  /**
   * Makes a blob visible: `place` puts the verified bytes at the blob's storage path, and the blob
   * is recorded (size, used now) so that no garbage collection can remove it half-way.
   */
  commitBlob(digest: Digest, size: number, place: () => Promise<void>): Promise<void>;
  /** Size of a blob linked into the repository (pushed or mounted there), or undefined. */
  repositoryBlobSize(repository: string, digest: Digest): Promise<number | undefined>;
  /** Links a blob of the global store into the repository. Throws BlobUnknownError when it is gone. */
  linkBlob(repository: string, digest: Digest): Promise<void>;
  /** Removes a repository's link to a blob; false when there was none. */
  unlinkBlob(repository: string, digest: Digest): Promise<boolean>;

  revisionExists(repository: string, digest: Digest): Promise<boolean>;
  /**
   * Records a manifest revision whose bytes are already committed as a blob: checks that every
   * reference is in the repository and marks each used in the same step (a garbage collection
   * cannot delete one in between), adds the referrer entry, then points `tag` at it.
   * Throws ManifestBlobUnknownError, storing nothing.
   */
  putRevision(repository: string, record: RevisionRecord, tag?: string): Promise<void>;
  /** Removes a revision, every tag pointing to it and its referrer entry; false when unknown. */
  deleteRevision(repository: string, digest: Digest): Promise<boolean>;

  resolveTag(repository: string, tag: string): Promise<Digest | undefined>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Sorted tags, or undefined when the repository has no manifests. */
  listTags(repository: string): Promise<string[] | undefined>;
  /** Sorted names of repositories holding at least one manifest. */
  listRepositories(): Promise<string[]>;
  /** Referrer descriptors of live revisions whose subject is `subject`, by digest. */
  listReferrers(repository: string, subject: Digest): Promise<Descriptor[]>;
}

export interface UploadSessionRef {
  repository: string;
  uuid: string;
  startedAt: Date;
}

/** Blob upload sessions: which exist, since when, and who may write to one right now. */
export interface UploadSessions {
  create(repository: string, uuid: string): Promise<void>;
  exists(repository: string, uuid: string): Promise<boolean>;
  /**
   * Exclusive use of a session on every replica sharing the store; throws UploadBusyError when
   * another holds it.
   */
  lock(repository: string, uuid: string): Promise<HeldLock>;
  /** Forgets a session (its data is the caller's to delete). */
  remove(repository: string, uuid: string): Promise<void>;
  /**
   * Sessions started before `cutoff` (a store may leave out those being written to right now;
   * the purge's lock tells the others).
   */
  startedBefore(cutoff: Date): Promise<UploadSessionRef[]>;
}

/** Something garbage collection may remove, with its last use. */
export interface UsedEntry {
  digest: Digest;
  lastUsed: Date;
}

export interface StoredBlob extends UsedEntry {
  size: number;
}

/**
 * What garbage collection reads and deletes. Each remove*IfUnused is a conditional delete: it
 * removes the entry only if it was last used before `cutoff`, atomically with respect to the use
 * that putRevision, linkBlob and commitBlob make, so a push racing a collection either sees the
 * entry gone (and says so) or keeps it.
 */
export interface GcStore {
  /**
   * The registry's one GC lock, held until released (or until the holder dies). With `wait`
   * false, throws GcLockedError when another collection holds it; with `wait`, waits for it.
   */
  lock(wait: boolean): Promise<HeldLock>;
  /** Every repository with manifests, links or uploads. */
  repositories(): Promise<string[]>;
  /** Every tag of a repository and its target. */
  tags(repository: string): Promise<Map<string, Digest>>;
  revisions(repository: string): Promise<UsedEntry[]>;
  layerLinks(repository: string): Promise<UsedEntry[]>;
  blobs(): Promise<StoredBlob[]>;
  removeRevisionIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean>;
  removeLayerLinkIfUnused(repository: string, digest: Digest, cutoff: Date): Promise<boolean>;
  /** Removes the blob's bytes (through `removeData`) and record; the size freed, or undefined when kept. */
  removeBlobIfUnused(
    digest: Digest,
    cutoff: Date,
    removeData: () => Promise<void>,
  ): Promise<number | undefined>;
}

/** Values all replicas share (the generated token signing key): the first writer's wins. */
export interface SharedSettings {
  get(name: string, create: () => Promise<string>): Promise<string>;
}

/**
 * A lock held on the store. A lock held through a connection (PostgreSQL's advisory locks) is
 * lost when the connection dies; `lost` is then aborted, and whatever the lock guards must stop
 * before it changes anything more, since another holder may already have it.
 */
export interface HeldLock {
  readonly lost: AbortSignal;
  /** Idempotent; after a loss, a no-op. */
  release(): Promise<void>;
}

/** A lock that cannot be lost without its process: a file, or memory. */
export function localLock(release: () => Promise<void>): HeldLock {
  let released = false;
  return {
    lost: new AbortController().signal,
    release: async () => {
      if (released) return;
      released = true;
      await release();
    },
  };
}
