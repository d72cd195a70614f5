import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedMetadata } from "../../../src/registry/metadata/embedded/store.js";
import { FilesystemDriver } from "../../../src/storage/filesystem.js";
import { metadataContract } from "./contract.js";

// The metadata contract against the embedded store: link files in a fresh filesystem root per test.
metadataContract(
  "embedded (filesystem)",
  async () => {
    const root = await mkdtemp(join(tmpdir(), "berth-metadata-"));
    const driver = new FilesystemDriver(root);
    return {
      metadata: embeddedMetadata(driver),
      driver,
      open: async () => embeddedMetadata(new FilesystemDriver(root)),
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
  { uploadLocksAcrossHandles: false, sharedSettings: false, outages: false },
);
