import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { ANALYZER_VERSION, type LayerAnalysis } from "./model.js";

const require = createRequire(import.meta.url);

/**
 * Layer analyses by diff_id, in SQLite: a layer is shared by many images and its analysis
 * depends on its bytes alone (a diff_id names them), so a layer seen once is never read again.
 * Rows of an older analyser are ignored and replaced. WAL mode: several scans may share it.
 */
export class LayerCache {
  private readonly db: BetterSqlite3.Database;
  private readonly getStmt: BetterSqlite3.Statement<[string, number], { result: string }>;
  private readonly putStmt: BetterSqlite3.Statement<[string, number, string, string]>;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    const Database = require("better-sqlite3") as typeof BetterSqlite3;
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 10000");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS layer_analysis (diff_id TEXT PRIMARY KEY, analyzer INTEGER NOT NULL, result TEXT NOT NULL, analysed_at TEXT NOT NULL)",
    );
    this.getStmt = this.db.prepare("SELECT result FROM layer_analysis WHERE diff_id = ? AND analyzer = ?");
    this.putStmt = this.db.prepare(
      "INSERT OR REPLACE INTO layer_analysis (diff_id, analyzer, result, analysed_at) VALUES (?, ?, ?, ?)",
    );
  }

  get(diffId: string): LayerAnalysis | undefined {
    const row = this.getStmt.get(diffId, ANALYZER_VERSION);
    return row ? (JSON.parse(row.result) as LayerAnalysis) : undefined;
  }

  put(diffId: string, analysis: LayerAnalysis): void {
    this.putStmt.run(diffId, ANALYZER_VERSION, JSON.stringify(analysis), new Date().toISOString());
  }

  close(): void {
    this.db.close();
  }
}
