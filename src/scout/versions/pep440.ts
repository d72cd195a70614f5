import { VersionParseError } from "../errors.js";

/**
 * PEP 440's version order: `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the PEP's
 * normalisations (case, `alpha`/`beta`/`c`/`pre`/`preview`, `rev`/`r`, `-N` as a post-release,
 * optional separators and numbers). Trailing zeros of the release do not count (1.0 == 1.0.0);
 * a dev release sorts before its pre-releases, which sort before the release, which sorts
 * before its post-releases; a local version sorts after the same public version.
 */
const PEP440 = new RegExp(
  "^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)" +
    "(?<pre>[-_\\.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_\\.]?(?<pre_n>[0-9]+)?)?" +
    "(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_\\.]?(?<post_l>post|rev|r)[-_\\.]?(?<post_n2>[0-9]+)?))?" +
    "(?<dev>[-_\\.]?(?<dev_l>dev)[-_\\.]?(?<dev_n>[0-9]+)?)?)" +
    "(?:\\+(?<local>[a-z0-9]+(?:[-_\\.][a-z0-9]+)*))?\\s*$",
  "i",
);

type Part = number | bigint;
const NEG = Number.NEGATIVE_INFINITY;
const POS = Number.POSITIVE_INFINITY;

interface Key {
  epoch: bigint;
  release: bigint[];
  pre: [Part, Part];
  post: Part;
  dev: Part;
  local: (bigint | string)[] | undefined;
}

function preRank(l: string): number {
  const s = l.toLowerCase();
  if (s === "a" || s === "alpha") return 0;
  if (s === "b" || s === "beta") return 1;
  return 2; // rc, c, pre, preview
}

export function parsePep440(v: string): Key {
  const g = PEP440.exec(v)?.groups;
  if (!g) throw new VersionParseError("PyPI", v);
  const release = g.release!.split(".").map(BigInt);
  while (release.length > 1 && release[release.length - 1] === 0n) release.pop();
  const hasPre = g.pre_l !== undefined;
  const hasPost = g.post !== undefined;
  const hasDev = g.dev !== undefined;
  const pre: [Part, Part] =
    !hasPre && !hasPost && hasDev
      ? [NEG, NEG]
      : hasPre
        ? [preRank(g.pre_l!), BigInt(g.pre_n ?? "0")]
        : [POS, POS];
  const post: Part = hasPost ? BigInt(g.post_n1 ?? g.post_n2 ?? "0") : NEG;
  const dev: Part = hasDev ? BigInt(g.dev_n ?? "0") : POS;
  const local = g.local
    ? g.local
        .toLowerCase()
        .split(/[-_.]/)
        .map((s) => (/^\d+$/.test(s) ? BigInt(s) : s))
    : undefined;
  return { epoch: BigInt(g.epoch ?? "0"), release, pre, post, dev, local };
}

function cmp(a: Part | string, b: Part | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareLocal(a: Key["local"], b: Key["local"]): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    // Numeric segments sort after alphanumeric ones.
    if (typeof x !== typeof y) return typeof x === "bigint" ? 1 : -1;
    const c = cmp(x, y);
    if (c) return c;
  }
  return Math.sign(a.length - b.length);
}

export function comparePep440(a: string, b: string): number {
  const x = parsePep440(a);
  const y = parsePep440(b);
  let c = cmp(x.epoch, y.epoch);
  if (c) return c;
  for (let i = 0; i < Math.max(x.release.length, y.release.length); i++) {
    c = cmp(x.release[i] ?? 0n, y.release[i] ?? 0n);
    if (c) return c;
  }
  return (
    cmp(x.pre[0], y.pre[0]) ||
    cmp(x.pre[1], y.pre[1]) ||
    cmp(x.post, y.post) ||
    cmp(x.dev, y.dev) ||
    compareLocal(x.local, y.local)
  );
}
