import type { SharedSettings } from "../metadata.js";
import type { PgConnection } from "./connection.js";

/** Settings every replica shares, in one table: the first writer's value wins. */
export class PostgresSettings implements SharedSettings {
  constructor(private readonly db: PgConnection) {}

  async get(name: string, create: () => Promise<string>): Promise<string> {
    const existing = await this.db.query("SELECT value FROM settings WHERE name = $1", [name]);
    if (existing.rows[0]) return existing.rows[0].value as string;
    const value = await create();
    await this.db.query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
      name,
      value,
    ]);
    const winner = await this.db.query("SELECT value FROM settings WHERE name = $1", [name]);
    return winner.rows[0].value as string;
  }
}
