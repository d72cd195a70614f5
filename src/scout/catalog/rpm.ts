import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import type { RawPackage } from "../model.js";

const require = createRequire(import.meta.url);

/**
 * rpm's SQLite database (`rpmdb.sqlite`, rpm ≥ 4.16): table `Packages`, one header blob per
 * package. A header blob is big-endian: the count of index entries and the size of the data,
 * then 16-byte entries (tag, type, offset, count), then the data they point into.
 */
const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  LICENSE: 1014,
  ARCH: 1022,
  SOURCERPM: 1044,
};
const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_I18NSTRING = 9;

export function parseRpmHeader(blob: Buffer): Map<number, string | number> {
  if (blob.length < 8) throw new Error("header blob too short");
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il > 100_000 || dataStart + dl > blob.length) throw new Error("header blob sizes exceed the blob");
  const out = new Map<number, string | number>();
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = blob.readInt32BE(e);
    const type = blob.readUInt32BE(e + 4);
    const offset = blob.readInt32BE(e + 8);
    if (!Object.values(TAG).includes(tag)) continue;
    if (offset < 0 || offset >= dl) throw new Error(`tag ${tag} points outside the header's data`);
    const at = dataStart + offset;
    if (type === TYPE_STRING || type === TYPE_I18NSTRING) {
      const end = blob.indexOf(0, at);
      if (end < 0 || end > dataStart + dl) throw new Error(`tag ${tag}: unterminated string`);
      out.set(tag, blob.toString("utf8", at, end));
    } else if (type === TYPE_INT32) {
      if (at + 4 > dataStart + dl) throw new Error(`tag ${tag}: integer outside the data`);
      out.set(tag, blob.readInt32BE(at));
    }
  }
  return out;
}

/** The source package's name from its file name: `openssl-3.0.7-16.el9.src.rpm` → `openssl`. */
function sourceName(srpm: string | undefined): string | undefined {
  const m = srpm ? /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(srpm) : null;
  return m?.[1];
}

export function readRpmDb(file: string, location: string): RawPackage[] {
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const out: RawPackage[] = [];
    for (const row of db.prepare("SELECT blob FROM Packages").iterate() as Iterable<{ blob: Buffer }>) {
      const h = parseRpmHeader(row.blob);
      const name = h.get(TAG.NAME);
      const version = h.get(TAG.VERSION);
      if (typeof name !== "string" || typeof version !== "string" || name === "gpg-pubkey") continue;
      const release = h.get(TAG.RELEASE);
      const epoch = h.get(TAG.EPOCH);
      const full = `${typeof epoch === "number" && epoch > 0 ? `${epoch}:` : ""}${version}${typeof release === "string" ? `-${release}` : ""}`;
      const license = h.get(TAG.LICENSE);
      out.push({
        type: "rpm",
        name,
        version: full,
        source: sourceName(h.get(TAG.SOURCERPM) as string | undefined) ?? name,
        sourceVersion: full,
        arch: (h.get(TAG.ARCH) as string | undefined) ?? undefined,
        licenses: typeof license === "string" ? [license] : [],
        location,
      });
    }
    return out;
  } finally {
    db.close();
  }
}
