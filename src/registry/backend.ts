import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Logger } from "pino";
import type { StorageDriver } from "../storage/driver.js";
import { FilesystemDriver } from "../storage/filesystem.js";
import { ConfigError, type RegistryConfig } from "./config.js";
import { embeddedMetadata } from "./metadata/embedded/store.js";
import type { RegistryMetadata } from "./metadata/metadata.js";

export interface Backend {
  /** Replicas over shared metadata keep settings (a generated token key) there. */
  sharedSetting?: (name: string, create: () => Promise<string>) => Promise<string>;
  driver: StorageDriver;
  metadata: RegistryMetadata;
  /** This replica's own directory (a generated token key when nothing shares one): the root. */
  root: string;
  /** Blob GETs redirect to the object store instead of streaming (storage.s3.redirect). */
  blobRedirect?: (path: string) => Promise<string>;
  close(): Promise<void>;
}

/**
 * The storage driver and metadata store a config names: the filesystem with embedded metadata by
 * default (zero setup), or S3 (or the filesystem) with PostgreSQL for several replicas.
 */
export async function openBackend(cfg: RegistryConfig, log: Logger): Promise<Backend> {
  const root = resolve(cfg.root);
  const s3 = cfg.storage.s3;
  let driver: StorageDriver;
  let closeDriver = async () => {};
  let blobRedirect: Backend["blobRedirect"];
  if (s3) {
    let ca: string | undefined;
    if (s3.tls.ca) {
      ca = await readFile(s3.tls.ca, "utf8").catch((err: Error) => {
        throw new ConfigError(`storage.s3.tls.ca: cannot read ${s3.tls.ca}: ${err.message}`);
      });
    }
    // Loaded only when configured: the AWS SDK and pg cost the filesystem setup's start ~100 ms.
    const { S3Driver } = await import("../storage/s3.js");
    const s3Driver = new S3Driver({
      ...s3,
      ...(ca ? { ca } : {}),
      insecureSkipVerify: s3.tls.insecureSkipVerify,
    });
    await s3Driver.open();
    driver = s3Driver;
    closeDriver = () => s3Driver.close();
    if (s3.redirect) blobRedirect = (path) => s3Driver.presignedGetUrl(path);
    log.info(
      { endpoint: s3.endpoint ?? "aws", bucket: s3.bucket, redirect: s3.redirect },
      "object storage ready",
    );
  } else {
    driver = new FilesystemDriver(root);
  }
  let metadata: RegistryMetadata;
  const pg = cfg.metadata.postgres;
  if (pg) {
    const { openPostgresMetadata } = await import("./metadata/postgres/store.js");
    metadata = await openPostgresMetadata(pg);
    log.info({ postgres: redactUrl(pg.url) }, "shared metadata ready");
  } else if (driver instanceof FilesystemDriver) {
    metadata = embeddedMetadata(driver);
  } else {
    throw new ConfigError("object storage needs metadata.postgres");
  }
  return {
    driver,
    metadata,
    root,
    ...(blobRedirect ? { blobRedirect } : {}),
    ...(metadata.settings ? { sharedSetting: metadata.settings.get.bind(metadata.settings) } : {}),
    close: async () => {
      await metadata.close();
      await closeDriver();
    },
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid url)";
  }
}
