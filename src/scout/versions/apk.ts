import { VersionParseError } from "../errors.js";

/**
 * Alpine's apk version order (apk-tools, after Gentoo's): `N[.N]...[letter][_suffix[N]]...[~hash][-rN]`.
 * The first number compares as an integer; a later one compares as a decimal fraction when
 * either side has a leading zero (1.01 < 1.1), else as an integer; more numbers win. Then the
 * letter (none < a < z), then the suffixes (`_alpha < _beta < _pre < _rc <` none `< _cvs < _svn
 * < _git < _hg < _p`, each with its number), then the revision.
 */
interface ApkVersion {
  numbers: string[];
  letter: string;
  suffixes: { rank: number; n: bigint }[];
  revision: bigint;
}

const SUFFIX_RANK: Record<string, number> = {
  alpha: -4,
  beta: -3,
  pre: -2,
  rc: -1,
  cvs: 1,
  svn: 2,
  git: 3,
  hg: 4,
  p: 5,
};

const APK =
  /^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$/;

export function parseApk(v: string): ApkVersion {
  const m = APK.exec(v.trim());
  if (!m) throw new VersionParseError("Alpine", v);
  const suffixes = [...(m[3] ?? "").matchAll(/_([a-z]+)(\d*)/g)].map((s) => ({
    rank: SUFFIX_RANK[s[1]!]!,
    n: BigInt(s[2] || "0"),
  }));
  return { numbers: m[1]!.split("."), letter: m[2] ?? "", suffixes, revision: BigInt(m[4] ?? "0") };
}

function cmp<T extends number | bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNumber(a: string, b: string, first: boolean): number {
  if (!first && (a.startsWith("0") || b.startsWith("0"))) {
    return cmp(a.replace(/0+$/, ""), b.replace(/0+$/, ""));
  }
  return cmp(BigInt(a), BigInt(b));
}

export function compareApk(a: string, b: string): number {
  const x = parseApk(a);
  const y = parseApk(b);
  const n = Math.min(x.numbers.length, y.numbers.length);
  for (let i = 0; i < n; i++) {
    const c = compareNumber(x.numbers[i]!, y.numbers[i]!, i === 0);
    if (c) return c;
  }
  if (x.numbers.length !== y.numbers.length) return x.numbers.length > y.numbers.length ? 1 : -1;
  const l = cmp(x.letter, y.letter);
  if (l) return l;
  const s = Math.min(x.suffixes.length, y.suffixes.length);
  for (let i = 0; i < s; i++) {
    const c = cmp(x.suffixes[i]!.rank, y.suffixes[i]!.rank) || cmp(x.suffixes[i]!.n, y.suffixes[i]!.n);
    if (c) return c;
  }
  if (x.suffixes.length > s) return x.suffixes[s]!.rank > 0 ? 1 : -1;
  if (y.suffixes.length > s) return y.suffixes[s]!.rank > 0 ? -1 : 1;
  return cmp(x.revision, y.revision);
}
