import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { VulnDbError } from "../errors.js";
import type { Advisory } from "./feeds.js";
import type { Severity } from "./severity.js";

const require = createRequire(import.meta.url);
const SCHEMA_VERSION = "1";

/**
 * The vulnerability database: one SQLite file, written whole by an update into a temporary file
 * and renamed over the old one, so a reader sees the old database or the new, never a mix.
 */
const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE feeds (
  source TEXT NOT NULL, format TEXT NOT NULL, feed_date TEXT, updated_at TEXT NOT NULL,
  records INTEGER NOT NULL, advisories INTEGER NOT NULL, skipped TEXT NOT NULL
);
CREATE TABLE advisories (
  id TEXT NOT NULL, aliases TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,
  summary TEXT, severity TEXT NOT NULL, score REAL, cvss TEXT, affected TEXT NOT NULL,
  fixed TEXT NOT NULL, url TEXT NOT NULL
);
CREATE INDEX advisories_package ON advisories (ecosystem, package);
CREATE TABLE severities (id TEXT PRIMARY KEY, severity TEXT NOT NULL, score REAL, cvss TEXT);
`;

export interface FeedRecord {
  source: string;
  format: string;
  feedDate?: string;
  updatedAt: string;
  records: number;
  advisories: number;
  skipped: Record<string, number>;
}

interface Row {
  id: string;
  aliases: string;
  ecosystem: string;
  package: string;
  summary: string | null;
  severity: string;
  score: number | null;
  cvss: string | null;
  affected: string;
  fixed: string;
  url: string;
}

function openDatabase(path: string, readonly: boolean): BetterSqlite3.Database {
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  return new Database(path, { readonly, fileMustExist: readonly });
}

export class VulnDb {
  private readonly stmt: BetterSqlite3.Statement<[string, string], Row>;

  private constructor(private readonly db: BetterSqlite3.Database) {
    this.stmt = db.prepare("SELECT * FROM advisories WHERE ecosystem = ? AND package = ?");
  }

  static open(path: string): VulnDb {
    if (!existsSync(path))
      throw new VulnDbError(
        `no vulnerability database at ${path}: run \`berth scout db update\` (with --source for local copies of the feeds)`,
      );
    const db = openDatabase(path, true);
    const version = (
      db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined
    )?.value;
    if (version !== SCHEMA_VERSION) {
      db.close();
      throw new VulnDbError(
        `the vulnerability database ${path} is of another Berth version: run \`berth scout db update\``,
      );
    }
    return new VulnDb(db);
  }

  forPackage(ecosystem: string, name: string): Advisory[] {
    return this.stmt.all(ecosystem, name).map((r) => ({
      id: r.id,
      aliases: JSON.parse(r.aliases) as string[],
      ecosystem: r.ecosystem,
      package: r.package,
      summary: r.summary ?? undefined,
      severity: r.severity as Severity,
      score: r.score ?? undefined,
      cvss: r.cvss ?? undefined,
      affected: JSON.parse(r.affected),
      fixed: JSON.parse(r.fixed) as string[],
      url: r.url,
    }));
  }

  /** The best-known severity of a CVE across all feeds (Alpine's secdb has none of its own). */
  severityOf(ids: string[]): { severity: Severity; score?: number; cvss?: string } | undefined {
    if (ids.length === 0) return undefined;
    const marks = ids.map(() => "?").join(",");
    const row = this.db
      .prepare(
        `SELECT severity, score, cvss FROM severities WHERE id IN (${marks}) ORDER BY score IS NULL, score DESC LIMIT 1`,
      )
      .get(...ids) as { severity: Severity; score: number | null; cvss: string | null } | undefined;
    return row
      ? { severity: row.severity, score: row.score ?? undefined, cvss: row.cvss ?? undefined }
      : undefined;
  }

  feeds(): FeedRecord[] {
    return (this.db.prepare("SELECT * FROM feeds ORDER BY rowid").all() as Record<string, unknown>[]).map(
      (r) => ({
        source: r.source as string,
        format: r.format as string,
        feedDate: (r.feed_date as string | null) ?? undefined,
        updatedAt: r.updated_at as string,
        records: r.records as number,
        advisories: r.advisories as number,
        skipped: JSON.parse(r.skipped as string) as Record<string, number>,
      }),
    );
  }

  meta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)
      ?.value;
  }

  count(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM advisories").get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

/** Writes a new database into `path` (a temporary name; the caller renames it into place). */
export class VulnDbWriter {
  private readonly db: BetterSqlite3.Database;
  private readonly insert: BetterSqlite3.Statement;
  /** The best-known severity of each ID and alias, for advisories of feeds that rate nothing (Alpine's). */
  private readonly severities = new Map<string, { severity: Severity; score?: number; cvss?: string }>();

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = openDatabase(path, false);
    this.db.pragma("journal_mode = OFF");
    this.db.pragma("synchronous = OFF");
    this.db.exec(SCHEMA);
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
    this.insert = this.db.prepare(
      "INSERT INTO advisories (id, aliases, ecosystem, package, summary, severity, score, cvss, affected, fixed, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.db.exec("BEGIN");
  }

  add(a: Advisory): void {
    if (a.severity !== "unknown") {
      for (const id of [a.id, ...a.aliases]) {
        const known = this.severities.get(id);
        if (!known || (a.score ?? -1) > (known.score ?? -1))
          this.severities.set(id, { severity: a.severity, score: a.score, cvss: a.cvss });
      }
    }
    this.insert.run(
      a.id,
      JSON.stringify(a.aliases),
      a.ecosystem,
      a.package,
      a.summary ?? null,
      a.severity,
      a.score ?? null,
      a.cvss ?? null,
      JSON.stringify(a.affected),
      JSON.stringify(a.fixed),
      a.url,
    );
  }

  addFeed(f: FeedRecord): void {
    this.db
      .prepare(
        "INSERT INTO feeds (source, format, feed_date, updated_at, records, advisories, skipped) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        f.source,
        f.format,
        f.feedDate ?? null,
        f.updatedAt,
        f.records,
        f.advisories,
        JSON.stringify(f.skipped),
      );
  }

  /** Commits and closes; the file is then complete (synced) and ready to be renamed into place. */
  finish(): void {
    const put = this.db.prepare("INSERT INTO severities (id, severity, score, cvss) VALUES (?, ?, ?, ?)");
    for (const [id, s] of this.severities) put.run(id, s.severity, s.score ?? null, s.cvss ?? null);
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('updated', ?)").run(new Date().toISOString());
    this.db.exec("COMMIT");
    this.db.pragma("synchronous = FULL");
    this.db.exec("VACUUM");
    this.db.close();
  }

  abort(): void {
    try {
      this.db.close();
    } catch {
      // already closed
    }
  }
}
