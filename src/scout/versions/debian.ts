import { VersionParseError } from "../errors.js";

/**
 * Debian's version order (Debian Policy 5.6.12): `[epoch:]upstream[-revision]`, the epoch
 * compared as a number, then upstream and revision each by dpkg's algorithm: alternating runs
 * of non-digits (compared character by character, `~` before everything, even the end, and
 * letters before non-letters) and digits (compared as numbers).
 */
export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const UPSTREAM = /^[0-9A-Za-z.+~:-]+$/;
const REVISION = /^[0-9A-Za-z.+~]+$/;

export function parseDebian(v: string): DebianVersion {
  const s = v.trim();
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(":");
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^\d+$/.test(e)) throw new VersionParseError("Debian", v);
    epoch = Number(e);
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : "";
  if (upstream === "" || !UPSTREAM.test(upstream) || (colon < 0 && upstream.includes(":")))
    throw new VersionParseError("Debian", v);
  if (dash >= 0 && !REVISION.test(revision)) throw new VersionParseError("Debian", v);
  return { epoch, upstream, revision };
}

/** dpkg's weight of one character of a non-digit run; 0 is the end of the run. */
function order(c: number | undefined): number {
  if (c === undefined) return 0;
  if (c >= 0x30 && c <= 0x39) return 0;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c;
  if (c === 0x7e) return -1;
  return c + 256;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** dpkg's verrevcmp. */
function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(i < a.length ? a.charCodeAt(i) : undefined);
      const bc = order(j < b.length ? b.charCodeAt(j) : undefined);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

export function compareDebian(a: string, b: string): number {
  const x = parseDebian(a);
  const y = parseDebian(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  return Math.sign(compareFragment(x.upstream, y.upstream) || compareFragment(x.revision, y.revision));
}
