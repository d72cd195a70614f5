import type { RegistryMetadata } from "../metadata/metadata.js";

/** The repositories that hold manifests, sorted, as `_catalog` and `/v1/search` list them. */
export class CatalogService {
  constructor(private readonly metadata: RegistryMetadata) {}

  list(): Promise<string[]> {
    return this.metadata.listRepositories();
  }
}
