import { resolve } from "node:path";
import type { Logger } from "pino";
import type { StorageDriver } from "../storage/driver.js";
import { FilesystemDriver } from "../storage/filesystem.js";
import type { RegistryConfig } from "./config.js";
import { EmbeddedMetadata } from "./metadata/embedded.js";
import type { RegistryMetadata } from "./metadata/metadata.js";

export interface Backend {
  driver: StorageDriver;
  metadata: RegistryMetadata;
  /** Where this replica keeps its own files (a generated token key): the root. */
  root: string;
  close(): Promise<void>;
}

/** The storage driver and metadata store a config names: the filesystem with embedded metadata by default. */
export async function openBackend(cfg: RegistryConfig, _log: Logger): Promise<Backend> {
  const root = resolve(cfg.root);
  const driver = new FilesystemDriver(root);
  const metadata = new EmbeddedMetadata(driver);
  return { driver, metadata, root, close: () => metadata.close() };
}
