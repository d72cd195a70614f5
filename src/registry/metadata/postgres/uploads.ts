import { UploadBusyError } from "../../domain-errors.js";
import type { HeldLock, UploadSessionRef, UploadSessions } from "../metadata.js";
import type { PgConnection } from "./connection.js";

/**
 * Upload sessions as rows; the right to write to one is an advisory lock held on a connection, so
 * a replica that dies drops the lock with its connection and the client continues on another.
 */
export class PostgresUploadSessions implements UploadSessions {
  constructor(private readonly db: PgConnection) {}

  async create(repository: string, uuid: string): Promise<void> {
    await this.db.query("INSERT INTO uploads (repository, uuid) VALUES ($1, $2)", [repository, uuid]);
  }

  async exists(repository: string, uuid: string): Promise<boolean> {
    const r = await this.db.query(
      "SELECT 1 FROM uploads WHERE repository = $1 AND uuid = $2",
      [repository, uuid],
      "upload-exists",
    );
    return r.rowCount === 1;
  }

  lock(repository: string, uuid: string): Promise<HeldLock> {
    return this.db.holdLock(
      async (client) => {
        const r = await client.query("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok", [
          repository,
          uuid,
        ]);
        return r.rows[0]?.ok === true;
      },
      (client) => client.query("SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", [repository, uuid]),
      () => new UploadBusyError(uuid),
    );
  }

  async remove(repository: string, uuid: string): Promise<void> {
    await this.db.query("DELETE FROM uploads WHERE repository = $1 AND uuid = $2", [repository, uuid]);
  }

  async startedBefore(cutoff: Date): Promise<UploadSessionRef[]> {
    const r = await this.db.query("SELECT repository, uuid, started_at FROM uploads WHERE started_at < $1", [
      cutoff,
    ]);
    return r.rows.map((row) => ({ repository: row.repository, uuid: row.uuid, startedAt: row.started_at }));
  }
}
