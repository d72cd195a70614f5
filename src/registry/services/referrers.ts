import type { Descriptor } from "../../oci/descriptor.js";
import type { Digest } from "../../oci/digest.js";
import type { RepositoryStore } from "../metadata/metadata.js";

/** The referrers API: manifests whose subject is a digest, optionally of one artifact type. */
export class ReferrerService {
  constructor(private readonly repositories: RepositoryStore) {}

  async list(repository: string, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    const all = await this.repositories.listReferrers(repository, subject);
    return artifactType === undefined ? all : all.filter((d) => d.artifactType === artifactType);
  }
}
