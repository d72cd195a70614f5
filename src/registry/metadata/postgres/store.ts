import type { RegistryMetadata } from "../metadata.js";
import { PgConnection, type PostgresOptions } from "./connection.js";
import { PostgresGcStore } from "./gc.js";
import { PostgresRepositoryStore } from "./repositories.js";
import { SCHEMA, SCHEMA_LOCK } from "./schema.js";
import { PostgresSettings } from "./settings.js";
import { PostgresUploadSessions } from "./uploads.js";

export type { PostgresOptions } from "./connection.js";

/**
 * Metadata in PostgreSQL, shared by every replica. The tables are created on first use by
 * whichever replica takes the schema lock.
 */
export async function openPostgresMetadata(options: PostgresOptions): Promise<RegistryMetadata> {
  const db = new PgConnection(options);
  try {
    await db.transaction(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
      await c.query(SCHEMA);
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    kind: "postgres",
    repositories: new PostgresRepositoryStore(db),
    uploads: new PostgresUploadSessions(db),
    gc: new PostgresGcStore(db),
    settings: new PostgresSettings(db),
    close: () => db.close(),
  };
}
