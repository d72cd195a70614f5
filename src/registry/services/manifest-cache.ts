/** A byte-bounded LRU of manifest bodies by digest: manifests are immutable, so entries never go stale. */
export interface CachedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
}

export class ManifestCache {
  private readonly entries = new Map<string, CachedManifest>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(digest: string): CachedManifest | undefined {
    const hit = this.entries.get(digest);
    if (hit) {
      this.entries.delete(digest);
      this.entries.set(digest, hit);
    }
    return hit;
  }

  set(digest: string, entry: CachedManifest): void {
    if (entry.bytes.length > this.maxBytes) return;
    const old = this.entries.get(digest);
    if (old) {
      this.bytes -= old.bytes.length;
      this.entries.delete(digest);
    }
    this.entries.set(digest, entry);
    this.bytes += entry.bytes.length;
    for (const [key, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= value.bytes.length;
    }
  }
}
