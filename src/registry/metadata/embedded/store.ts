import type { FilesystemDriver } from "../../../storage/filesystem.js";
import type { RegistryMetadata } from "../metadata.js";
import { EmbeddedGcStore } from "./gc.js";
import { EmbeddedRepositoryStore } from "./repositories.js";
import { BlobSizes } from "./tree.js";
import { EmbeddedUploadSessions } from "./uploads.js";

/**
 * Metadata kept inside the filesystem driver's tree as distribution lays it out (link files for
 * tags, revisions and layers; a `startedat` file per upload), so existing data directories keep
 * working and nothing else needs setting up.
 */
export function embeddedMetadata(driver: FilesystemDriver): RegistryMetadata {
  const sizes = new BlobSizes();
  const repositories = new EmbeddedRepositoryStore(driver, sizes);
  return {
    kind: "embedded",
    repositories,
    uploads: new EmbeddedUploadSessions(driver),
    gc: new EmbeddedGcStore(driver, repositories, sizes),
    close: async () => {},
  };
}
