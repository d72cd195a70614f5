import { createWriteStream, type Stats } from "node:fs";
import { mkdtemp, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { isAlive } from "../../liveness.js";
import { VulnDbError } from "../errors.js";
import { VulnDbWriter } from "./db.js";
import {
  type Advisory,
  FeedCounts,
  isAlpineSecdb,
  isOsvRecord,
  parseAlpineSecdb,
  parseDebianTracker,
  parseOsv,
} from "./feeds.js";

/** The public feeds `berth scout db update` reads when no --source is given. */
export const DEFAULT_SOURCES = [
  "https://security-tracker.debian.org/tracker/data/json",
  ...["v3.18", "v3.19", "v3.20", "v3.21"].flatMap((v) => [
    `https://secdb.alpinelinux.org/${v}/main.json`,
    `https://secdb.alpinelinux.org/${v}/community.json`,
  ]),
  ...["npm", "PyPI", "Go", "Maven"].map(
    (e) => `https://osv-vulnerabilities.storage.googleapis.com/${e}/all.zip`,
  ),
];

/** A JSON document larger than this is refused (the Debian tracker's is about 70 MB). */
const JSON_LIMIT = 512 * 1024 * 1024;
/** One OSV record in a zip. */
const RECORD_LIMIT = 16 * 1024 * 1024;

export interface FeedReport {
  source: string;
  format: string;
  feedDate?: string;
  records: number;
  advisories: number;
  skipped: Record<string, number>;
}

interface Reader {
  add(a: Advisory): void;
}

type Format = "osv" | "debian-tracker" | "alpine-secdb";

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new VulnDbError(`${where} is not JSON: ${(err as Error).message}`);
  }
}

/** One JSON document of any of the formats; returns the format it was. */
function readDocument(doc: unknown, counts: FeedCounts, out: Reader): Format {
  if (Array.isArray(doc) && doc.every(isOsvRecord)) {
    for (const r of doc) for (const a of parseOsv(r, counts)) out.add(a);
    return "osv";
  }
  if (isOsvRecord(doc)) {
    for (const a of parseOsv(doc, counts)) out.add(a);
    return "osv";
  }
  if (isAlpineSecdb(doc)) {
    for (const a of parseAlpineSecdb(doc, counts)) out.add(a);
    return "alpine-secdb";
  }
  for (const a of parseDebianTracker(doc, counts)) out.add(a);
  return "debian-tracker";
}

async function readJsonFile(path: string, st: Stats, counts: FeedCounts, out: Reader): Promise<Format> {
  if (st.size > JSON_LIMIT) throw new VulnDbError(`${path} is larger than ${JSON_LIMIT} bytes`);
  return readDocument(parseJson(await readFile(path, "utf8"), path), counts, out);
}

/** An ecosystem's all.zip: one OSV record per .json entry, read one at a time. */
function readZip(path: string, counts: FeedCounts, out: Reader): Promise<Format> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(new VulnDbError(`${path} is not a readable zip: ${err?.message}`));
      zip.on("error", (e: Error) => reject(new VulnDbError(`${path}: ${e.message}`)));
      zip.on("end", () => resolve("osv"));
      zip.on("entry", (entry: yauzl.Entry) => {
        if (!entry.fileName.endsWith(".json")) return zip.readEntry();
        if (entry.uncompressedSize > RECORD_LIMIT) {
          counts.records++;
          counts.skip("malformed");
          return zip.readEntry();
        }
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new VulnDbError(`${path}: ${entry.fileName}: ${e?.message}`));
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("error", (se: Error) =>
            reject(new VulnDbError(`${path}: ${entry.fileName}: ${se.message}`)),
          );
          stream.on("end", () => {
            let doc: unknown;
            try {
              doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              counts.records++;
              counts.skip("malformed");
              return zip.readEntry();
            }
            for (const a of parseOsv(doc, counts)) out.add(a);
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

async function isZip(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, 0);
    return buf.readUInt32LE(0) === 0x04034b50;
  } finally {
    await fh.close();
  }
}

async function readFileSource(
  path: string,
  counts: FeedCounts,
  out: Reader,
  formats: Set<Format>,
): Promise<void> {
  const st = await stat(path);
  if (st.isDirectory()) {
    const names = (await readdir(path)).sort();
    for (const name of names) {
      const child = join(path, name);
      const cst = await stat(child);
      if (cst.isDirectory() || name.endsWith(".json") || name.endsWith(".zip"))
        await readFileSource(child, counts, out, formats);
    }
    return;
  }
  if (await isZip(path)) {
    formats.add(await readZip(path, counts, out));
    return;
  }
  try {
    formats.add(await readJsonFile(path, st, counts, out));
  } catch (err) {
    // In a directory of OSV records, one file that is not JSON is a malformed record, not a failed update.
    if (formats.has("osv") && err instanceof VulnDbError) {
      counts.records++;
      counts.skip("malformed");
      return;
    }
    throw err;
  }
}

/** Downloads a URL into `dir`; the feed's date is its Last-Modified. */
async function download(url: string, dir: string): Promise<{ path: string; date?: string }> {
  const res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(600_000) });
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new VulnDbError(`${url} answered ${res.status}`);
  }
  const path = join(dir, `download-${basename(new URL(url).pathname) || "feed"}`);
  await pipeline(
    Readable.fromWeb(res.body as import("node:stream/web").ReadableStream),
    createWriteStream(path),
  );
  const lm = res.headers.get("last-modified");
  const date = lm && !Number.isNaN(Date.parse(lm)) ? new Date(lm).toISOString() : undefined;
  return { path, date };
}

/** Removes what updates killed part-way left beside the database (`vulndb.db.tmp-PID` of a pid that is gone). */
async function sweepStale(dbPath: string): Promise<void> {
  const dir = dirname(dbPath);
  const prefix = `${basename(dbPath)}.tmp-`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid, undefined))
      await rm(join(dir, name), { force: true });
  }
}

/**
 * Builds a new database from every source and renames it over `dbPath`. Any source that cannot
 * be read fails the update and leaves the previous database in use; records that cannot be used
 * (malformed, unknown ecosystems, versions that do not parse) are skipped and counted.
 */
export async function updateVulnDb(
  dbPath: string,
  sources: string[],
  tmpRoot: string,
): Promise<FeedReport[]> {
  await sweepStale(dbPath);
  const tmp = `${dbPath}.tmp-${process.pid}`;
  const work = await mkdtemp(join(tmpRoot, `scout-update-${process.pid}-`));
  await rm(tmp, { force: true });
  const writer = new VulnDbWriter(tmp);
  const reports: FeedReport[] = [];
  try {
    for (const source of sources) {
      const counts = new FeedCounts();
      const formats = new Set<Format>();
      let path = source;
      let date: string | undefined;
      if (/^https?:\/\//.test(source)) {
        try {
          ({ path, date } = await download(source, work));
        } catch (err) {
          if (err instanceof VulnDbError) throw err;
          throw new VulnDbError(`${source} cannot be fetched: ${(err as Error).message}`);
        }
      } else {
        try {
          const st = await stat(source);
          if (!st.isDirectory()) date = st.mtime.toISOString();
        } catch {
          throw new VulnDbError(`${source}: no such file or directory`);
        }
      }
      await readFileSource(path, counts, writer, formats);
      if (path !== source) await rm(path, { force: true });
      const report: FeedReport = {
        source,
        format: [...formats].join("+") || "none",
        feedDate: counts.newest ?? date,
        records: counts.records,
        advisories: counts.advisories,
        skipped: Object.fromEntries(counts.skipped),
      };
      writer.addFeed({ ...report, updatedAt: new Date().toISOString() });
      reports.push(report);
    }
    writer.finish();
    await rename(tmp, dbPath);
    return reports;
  } catch (err) {
    writer.abort();
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
