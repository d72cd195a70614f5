import { VersionParseError } from "../errors.js";
import { compareVersions, type VersionScheme } from "../versions/index.js";

/**
 * OSV's range evaluation, as the schema's "Evaluation" section gives it: a version is affected
 * when the `versions` list holds it, or when a range's events, sorted by version (`introduced:
 * "0"` first), leave it vulnerable: `introduced` at or below it turns vulnerability on, `fixed`
 * at or below it turns it off, `last_affected` below it turns it off; a range with `limit`
 * events only covers versions below one of them (`*` is infinity). GIT ranges are not
 * evaluated (they need the repository). SEMVER ranges compare by SemVer, ECOSYSTEM ranges by the
 * ecosystem's own order.
 */
export interface RangeEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface Range {
  type: "SEMVER" | "ECOSYSTEM" | "GIT";
  events: RangeEvent[];
}

export interface Affected {
  ranges: Range[];
  versions: string[];
}

function eventVersion(e: RangeEvent): string {
  return (e.introduced ?? e.fixed ?? e.last_affected ?? e.limit)!;
}

function isZero(e: RangeEvent): boolean {
  return e.introduced === "0";
}

export function includedInRange(scheme: VersionScheme, version: string, range: Range): boolean {
  if (range.type === "GIT") return false;
  const order = range.type === "SEMVER" ? "semver" : scheme;
  const cmp = (a: string, b: string) => compareVersions(order, a, b);
  const limits = range.events.filter((e) => e.limit !== undefined);
  if (limits.length > 0 && !limits.some((e) => e.limit!.includes("*") || cmp(version, e.limit!) < 0))
    return false;
  const events = range.events
    .filter((e) => e.limit === undefined)
    .sort((a, b) =>
      isZero(a) ? (isZero(b) ? 0 : -1) : isZero(b) ? 1 : cmp(eventVersion(a), eventVersion(b)),
    );
  let vulnerable = false;
  for (const e of events) {
    if (e.introduced !== undefined && (isZero(e) || cmp(version, e.introduced) >= 0)) vulnerable = true;
    else if (e.fixed !== undefined && cmp(version, e.fixed) >= 0) vulnerable = false;
    else if (e.last_affected !== undefined && cmp(version, e.last_affected) > 0) vulnerable = false;
  }
  return vulnerable;
}

/** Whether `version` is affected; throws VersionParseError when it does not parse in the scheme. */
export function isAffected(scheme: VersionScheme, version: string, affected: Affected): boolean {
  if (affected.versions.includes(version)) return true;
  return affected.ranges.some((r) => includedInRange(scheme, version, r));
}

/** Every version of the record parses in its scheme: a record that does not is never matched (it could match wrongly). */
export function checkAffected(scheme: VersionScheme, affected: Affected): boolean {
  try {
    for (const r of affected.ranges) {
      if (r.type === "GIT") continue;
      const order = r.type === "SEMVER" ? "semver" : scheme;
      if (!r.events.some((e) => e.introduced !== undefined)) return false;
      for (const e of r.events) {
        const keys = Object.keys(e).filter((k) =>
          ["introduced", "fixed", "last_affected", "limit"].includes(k),
        );
        if (keys.length !== 1) return false;
        const v = eventVersion(e);
        if (typeof v !== "string") return false;
        if (isZero(e) || (e.limit !== undefined && v.includes("*"))) continue;
        compareVersions(order, v, v);
      }
    }
    return true;
  } catch (err) {
    if (err instanceof VersionParseError) return false;
    throw err;
  }
}
