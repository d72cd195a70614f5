import type { Distro } from "../model.js";

/** `etc/os-release` (or `usr/lib/os-release`): shell-style KEY=value lines, values maybe quoted. */
export function parseOsRelease(text: string): Distro | undefined {
  const kv: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    kv[m[1]!] = v.replace(/\\(["$`\\])/g, "$1");
  }
  if (!kv.ID) return undefined;
  return {
    id: kv.ID.toLowerCase(),
    versionId: kv.VERSION_ID,
    codename: kv.VERSION_CODENAME,
    prettyName: kv.PRETTY_NAME,
    idLike: kv.ID_LIKE?.split(/\s+/).filter(Boolean),
  };
}
