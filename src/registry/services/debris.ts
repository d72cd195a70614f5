import type { StorageDriver } from "../../storage/driver.js";
import type { UploadService } from "./uploads.js";

/**
 * How old a leftover must be before it is swept. Far longer than any write takes, so nothing that
 * a live process (this one, or a replica sharing the storage) is still writing is ever taken.
 */
export const DEBRIS_MIN_AGE_MS = 60 * 60 * 1000;

export interface DebrisReport {
  /** Temporary files of writes that never finished (the filesystem driver's `.tmp-*`). */
  temporaryFiles: number;
  /** Upload folders that hold no session. */
  uploadFolders: number;
}

/**
 * Sweeps what processes killed half-way through a write left behind (`kill -9`, a power cut):
 * the driver's temporary files first, then the upload folders that are left with no session.
 */
export async function sweepDebris(
  services: { driver: StorageDriver; uploads: UploadService },
  now = Date.now(),
): Promise<DebrisReport> {
  const olderThan = new Date(now - DEBRIS_MIN_AGE_MS);
  const temporaryFiles = (await services.driver.sweep?.(olderThan)) ?? 0;
  const uploadFolders = await services.uploads.sweepOrphans(olderThan);
  return { temporaryFiles, uploadFolders };
}
