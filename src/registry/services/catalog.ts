import type { RepositoryStore } from "../metadata/metadata.js";

/** The repositories that hold manifests, sorted, as `_catalog` and `/v1/search` list them. */
export class CatalogService {
  constructor(private readonly repositories: RepositoryStore) {}

  list(): Promise<string[]> {
    return this.repositories.listRepositories();
  }
}
