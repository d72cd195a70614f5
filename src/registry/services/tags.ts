import type { RepositoryStore } from "../metadata/metadata.js";

/** Tags of a repository, read through the metadata on every call so replicas agree at once. */
export class TagService {
  constructor(private readonly repositories: RepositoryStore) {}

  /** Sorted tags, or undefined when the repository does not exist. */
  list(repository: string): Promise<string[] | undefined> {
    return this.repositories.listTags(repository);
  }
}
