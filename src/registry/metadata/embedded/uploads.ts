import { deleteIfExists, exists, statOrUndefined } from "../../../storage/absent.js";
import { PathNotFoundError } from "../../../storage/driver.js";
import type { FilesystemDriver } from "../../../storage/filesystem.js";
import { UploadBusyError } from "../../domain-errors.js";
import { layout } from "../../layout.js";
import { repositoriesWith, walkIfExists } from "../../layout-walk.js";
import { type HeldLock, localLock, type UploadSessionRef, type UploadSessions } from "../metadata.js";

/**
 * Upload sessions as folders `_uploads/<uuid>` holding a `startedat` file (and the data). The
 * right to write to one is this process's alone: one process serves a filesystem root.
 */
export class EmbeddedUploadSessions implements UploadSessions {
  /** Uploads being written by this process. */
  private readonly busy = new Set<string>();

  constructor(private readonly driver: FilesystemDriver) {}

  async create(repository: string, uuid: string): Promise<void> {
    await this.driver.putContent(
      layout.uploadStartedAt(repository, uuid),
      Buffer.from(new Date().toISOString()),
    );
  }

  async exists(repository: string, uuid: string): Promise<boolean> {
    return (
      (await exists(this.driver, layout.uploadStartedAt(repository, uuid))) ||
      (await exists(this.driver, layout.uploadData(repository, uuid)))
    );
  }

  async lock(repository: string, uuid: string): Promise<HeldLock> {
    const key = `${repository}\0${uuid}`;
    if (this.busy.has(key)) throw new UploadBusyError(uuid);
    this.busy.add(key);
    return localLock(async () => {
      this.busy.delete(key);
    });
  }

  async remove(repository: string, uuid: string): Promise<void> {
    await deleteIfExists(this.driver, layout.uploadDir(repository, uuid));
  }

  async startedBefore(cutoff: Date): Promise<UploadSessionRef[]> {
    const out: UploadSessionRef[] = [];
    for (const repository of await repositoriesWith(this.driver, ["_uploads"])) {
      const uuids: string[] = [];
      await walkIfExists(this.driver, layout.uploadsDir(repository), (entry) => {
        if (entry.isDir) uuids.push(entry.path.slice(entry.path.lastIndexOf("/") + 1));
        return "skip";
      });
      for (const uuid of uuids) {
        if (this.busy.has(`${repository}\0${uuid}`)) continue;
        const started = await this.startedAt(repository, uuid);
        if (started < cutoff.getTime()) out.push({ repository, uuid, startedAt: new Date(started) });
      }
    }
    return out;
  }

  private async startedAt(repository: string, uuid: string): Promise<number> {
    let started = Number.NaN;
    try {
      started = Date.parse(
        (await this.driver.getContent(layout.uploadStartedAt(repository, uuid))).toString(),
      );
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
    if (Number.isNaN(started)) {
      started =
        (await statOrUndefined(this.driver, layout.uploadDir(repository, uuid)))?.modTime.getTime() ?? 0;
    }
    return started;
  }
}
