import type { RawPackage } from "../model.js";

/**
 * apk's database, `lib/apk/db/installed`: one paragraph per package of `X:value` lines (P name,
 * V version, A architecture, o origin, the source package, L licence), blank lines between.
 */
export function parseApkInstalled(text: string, location: string): RawPackage[] {
  const out: RawPackage[] = [];
  let cur: Record<string, string> = {};
  const flush = () => {
    if (cur.P && cur.V) {
      out.push({
        type: "apk",
        name: cur.P,
        version: cur.V,
        source: cur.o ?? cur.P,
        sourceVersion: cur.V,
        arch: cur.A,
        licenses: cur.L ? [cur.L] : [],
        location,
      });
    }
    cur = {};
  };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line === "") {
      flush();
      continue;
    }
    if (line[1] === ":" && !(line[0]! in cur)) cur[line[0]!] = line.slice(2);
  }
  flush();
  return out;
}
