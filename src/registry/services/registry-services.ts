import type { StorageDriver } from "../../storage/driver.js";
import type { RegistryMetadata } from "../metadata/metadata.js";
import { BlobService } from "./blobs.js";
import { CatalogService } from "./catalog.js";
import { ManifestService } from "./manifests.js";
import { ReferrerService } from "./referrers.js";
import { TagService } from "./tags.js";
import { UploadService } from "./uploads.js";

/** The registry's services over one storage driver and one metadata store, as handlers use them. */
export interface RegistryServices {
  readonly driver: StorageDriver;
  readonly metadata: RegistryMetadata;
  readonly blobs: BlobService;
  readonly manifests: ManifestService;
  readonly tags: TagService;
  readonly catalog: CatalogService;
  readonly referrers: ReferrerService;
  readonly uploads: UploadService;
}

export function createServices(driver: StorageDriver, metadata: RegistryMetadata): RegistryServices {
  const blobs = new BlobService(driver, metadata.repositories);
  return {
    driver,
    metadata,
    blobs,
    manifests: new ManifestService(metadata.repositories, blobs),
    tags: new TagService(metadata.repositories),
    catalog: new CatalogService(metadata.repositories),
    referrers: new ReferrerService(metadata.repositories),
    uploads: new UploadService(driver, metadata.uploads, blobs),
  };
}
