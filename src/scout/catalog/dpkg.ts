import type { RawPackage } from "../model.js";
import { field, parseParagraphs } from "./paragraphs.js";

/**
 * dpkg's database: `var/lib/dpkg/status` (every installed package) or one file per package in
 * `var/lib/dpkg/status.d/` (distroless images). Only packages whose status is "installed" count
 * (a removed package whose configuration files remain is "config-files"). `Source: name (version)`
 * gives the source package; without it the source is the package itself.
 */
export function parseDpkgStatus(text: string, location: string): RawPackage[] {
  const out: RawPackage[] = [];
  for (const p of parseParagraphs(text)) {
    const name = field(p, "Package");
    const version = field(p, "Version");
    if (!name || !version) continue;
    const status = field(p, "Status");
    if (status !== undefined && status.split(/\s+/)[2] !== "installed") continue;
    const src = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(field(p, "Source") ?? "");
    out.push({
      type: "deb",
      name,
      version,
      source: src?.[1] ?? name,
      sourceVersion: src?.[2] ?? version,
      arch: field(p, "Architecture"),
      licenses: [],
      location,
    });
  }
  return out;
}

/**
 * The licences of `usr/share/doc/PKG/copyright` in Debian's machine-readable format (DEP-5):
 * every `License:` field's short name, in order, once each. Free-form copyright files give none.
 */
export function parseDebianCopyright(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^License:[ \t]*([^\n\r]+)/gm)) {
    const name = m[1]!.trim();
    if (name && !found.includes(name)) found.push(name);
  }
  return found;
}
