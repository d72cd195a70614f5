/**
 * Sizes, durations and identifiers as the docker CLI prints them: github.com/docker/go-units
 * (size.go, duration.go), docker's stringid.TruncateID and formatter.Ellipsis.
 */
import { formatFloat } from "../../gotemplate/strconv.js";
import { isWide } from "./width.js";

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

function customSize(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${formatFloat(size, "g", precision)}${units[i]}`;
}

/**
 * go-units HumanSizeWithPrecision: decimal units and Go's %.Ng, so "966B", "1.024kB", "2.5MB",
 * and past the last unit "1e+04YB". HumanSize is precision 4; `docker images` and `docker
 * history` print their SIZE column with precision 3.
 */
export function humanSize(bytes: number, precision = 4): string {
  return customSize(bytes, 1000, DECIMAL_UNITS, precision);
}

/** go-units BytesSize: binary units, four significant digits ("1KiB", "3.42GiB"). */
export function bytesSize(bytes: number): string {
  return customSize(bytes, 1024, BINARY_UNITS, 4);
}

/**
 * go-units HumanDuration, given milliseconds. Hours round to the nearest, every other unit
 * truncates, as Go's int() conversions of Duration.Seconds() and friends do.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

function millis(t: Date | number): number {
  return typeof t === "number" ? t : t.getTime();
}

/** docker's CreatedSince: HumanDuration(now - date) + " ago". */
export function timeAgo(date: Date | number, now: Date | number = Date.now()): string {
  return `${humanDuration(millis(now) - millis(date))} ago`;
}

/** stringid.TruncateID: what follows the algorithm ("sha256:"), cut to 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(":");
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

/**
 * formatter.Ellipsis: fits `s` into `maxWidth` display columns (East Asian wide characters
 * count 2), ending in "…" when cut. A width of 1 keeps only the first character.
 */
export function ellipsis(s: string, maxWidth: number): string {
  if (maxWidth <= 0) return "";
  const chars = [...s];
  if (maxWidth === 1) return chars[0] ?? "";
  if (/^[\x00-\x7f]*$/.test(s)) {
    return chars.length <= maxWidth ? s : `${chars.slice(0, maxWidth - 1).join("")}…`;
  }
  const ends: number[] = [];
  let width = 0;
  for (const ch of chars) {
    width += isWide(ch) ? 2 : 1;
    ends.push(width);
  }
  if (width <= maxWidth) return s;
  for (let i = 0; i < ends.length - 1; i++) {
    if (ends[i]! <= maxWidth - 1 && ends[i + 1]! > maxWidth - 1) return `${chars.slice(0, i + 1).join("")}…`;
  }
  return s;
}
