/**
 * Severity: CVSS v3.0/v3.1 base scores computed from their vectors (FIRST's specification,
 * section 7 and Appendix A's Roundup), ratings by the specification's table; a v4 vector is
 * kept but not scored (its score needs the specification's macro-vector tables), so a record
 * with only a v4 vector takes the feed's own rating.
 */
export type Severity = "critical" | "high" | "medium" | "low" | "unknown";

export const SEVERITIES: Severity[] = ["critical", "high", "medium", "low", "unknown"];

const WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** CVSS v3.1's Roundup: the smallest number with one decimal that is at least the input, free of float error. */
function roundUp(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** The base score of a `CVSS:3.x/...` vector, or undefined when it is not a complete v3 base vector. */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.trim().split("/");
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? "")) return undefined;
  const m: Record<string, string> = {};
  for (const p of parts.slice(1)) {
    const [k, v] = p.split(":");
    if (!k || !v || k in m) return undefined;
    m[k] = v;
  }
  const av = WEIGHTS.AV[m.AV as keyof typeof WEIGHTS.AV];
  const ac = WEIGHTS.AC[m.AC as keyof typeof WEIGHTS.AC];
  const ui = WEIGHTS.UI[m.UI as keyof typeof WEIGHTS.UI];
  const c = WEIGHTS.CIA[m.C as keyof typeof WEIGHTS.CIA];
  const i = WEIGHTS.CIA[m.I as keyof typeof WEIGHTS.CIA];
  const a = WEIGHTS.CIA[m.A as keyof typeof WEIGHTS.CIA];
  const scope = m.S;
  if (
    av === undefined ||
    ac === undefined ||
    ui === undefined ||
    c === undefined ||
    i === undefined ||
    a === undefined
  )
    return undefined;
  if (scope !== "U" && scope !== "C") return undefined;
  const changed = scope === "C";
  const pr = { N: 0.85, L: changed ? 0.68 : 0.62, H: changed ? 0.5 : 0.27 }[m.PR as "N" | "L" | "H"];
  if (pr === undefined) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return changed
    ? roundUp(Math.min(1.08 * (impact + exploitability), 10))
    : roundUp(Math.min(impact + exploitability, 10));
}

/** CVSS's qualitative rating of a score (0 is "none", counted here as low: the record still says it is a vulnerability). */
export function ratingOf(score: number): Severity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  return "low";
}

/** A feed's own word for severity (GHSA's MODERATE, Debian's urgencies, Ubuntu's priorities). */
export function severityWord(word: string | undefined): Severity {
  switch (word?.trim().toLowerCase()) {
    case "critical":
      return "critical";
    case "high":
    case "important":
      return "high";
    case "medium":
    case "moderate":
      return "medium";
    case "low":
    case "negligible":
    case "unimportant":
      return "low";
    default:
      return "unknown";
  }
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
