import type { HistoryEntry } from "../oci/manifest.js";
import { formatGoDuration } from "./durations.js";
import type { Healthcheck } from "./instructions.js";

/**
 * The image history as BuildKit writes it (frontend/dockerfile/dockerfile2llb): a `created_by`
 * per instruction in Go's formatting (`CMD ["sh" "-c" "x"]` is `%q` of a string slice,
 * `VOLUME [/data]` is `%v`), ` # buildkit` after the ones that made a layer through LLB (RUN,
 * COPY, ADD), the `buildkit.dockerfile.v0` comment, and BuildKit's rule for timestamps.
 */
export const HISTORY_COMMENT = "buildkit.dockerfile.v0";

/** Go's strconv.Quote for the strings a Dockerfile holds. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `%q` of a []string: `["a" "b"]`. */
export function goQuotedList(items: string[]): string {
  return `[${items.map(goQuote).join(" ")}]`;
}

/** `%v` of a []string: `[a b]`. */
export function goList(items: string[]): string {
  return `[${items.join(" ")}]`;
}

/** `%+v` of dockerspec.HealthcheckConfig. */
export function healthcheckText(h: Healthcheck | undefined): string {
  const c = h ?? { test: ["NONE"], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  return (
    `{Test:${goList(c.test)} Interval:${formatGoDuration(c.interval)} Timeout:${formatGoDuration(c.timeout)} ` +
    `StartPeriod:${formatGoDuration(c.startPeriod)} StartInterval:${formatGoDuration(c.startInterval)} Retries:${c.retries}}`
  );
}

/**
 * RUN's text: `|N K=V …` for the ARGs the stage declared (their current values), then the
 * command line, as BuildKit's runCommandString writes it.
 */
export function runCommandText(
  args: string[],
  declared: { key: string; value: string | undefined }[],
  env: (name: string) => string | undefined,
): string {
  const pairs = new Map<string, string>();
  for (const a of declared) pairs.set(a.key, env(a.key) ?? a.value ?? "");
  const prefix = pairs.size > 0 ? [`|${pairs.size}`, ...[...pairs].map(([k, v]) => `${k}=${v}`)] : [];
  return [...prefix, ...args].join(" ");
}

/**
 * Timestamps as BuildKit's exporter sets them: a layer entry keeps the time its layer was made
 * (a cached layer its first time); an entry without a time takes the first new layer's time
 * (or the one before it). With an epoch (SOURCE_DATE_EPOCH), every entry after the base image's
 * own gets a time no later than the epoch, and so does the image's `created`.
 */
export function settleHistoryTimes(
  history: HistoryEntry[],
  baseEntries: number,
  epoch: string | undefined,
): { history: HistoryEntry[]; created: string | undefined } {
  const out = history.map((h) => ({ ...h }));
  let created: string | undefined;
  let sawMissing = false;
  for (const h of out) {
    if (h.created !== undefined) {
      created = h.created;
      if (sawMissing) break;
    } else {
      sawMissing = true;
    }
  }
  sawMissing = false;
  for (const h of out) {
    if (h.created !== undefined) {
      if (sawMissing) created = h.created;
    } else {
      sawMissing = true;
      if (created !== undefined) h.created = created;
    }
  }
  if (epoch !== undefined) {
    const limit = Date.parse(epoch);
    for (let i = baseEntries; i < out.length; i++) {
      const h = out[i]!;
      if (h.created === undefined || Date.parse(h.created) > limit) h.created = epoch;
    }
  }
  let last: string | undefined;
  for (const h of out) if (h.created !== undefined) last = h.created;
  if (epoch !== undefined && last !== undefined && Date.parse(last) > Date.parse(epoch)) last = epoch;
  return { history: out, created: last };
}
