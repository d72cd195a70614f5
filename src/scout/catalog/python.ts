import type { RawPackage } from "../model.js";
import { field, parseParagraphs } from "./paragraphs.js";

/**
 * A Python distribution's core metadata (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO` or an
 * `*.egg-info` file): RFC 822 headers, then the description. Only the headers are needed, so
 * only they are read. Licences from `License-Expression` (PEP 639), else `License`, else the
 * `License ::` classifiers.
 */
export function parsePythonMetadata(text: string, location: string): RawPackage[] {
  const [headers] = parseParagraphs(text, true);
  if (!headers) return [];
  const name = field(headers, "Name");
  const version = field(headers, "Version");
  if (!name || !version) return [];
  const licenses: string[] = [];
  const expression = field(headers, "License-Expression");
  const license = field(headers, "License");
  if (expression) licenses.push(expression);
  else if (license && license !== "UNKNOWN" && !license.includes("\n") && license.length <= 100)
    licenses.push(license);
  else {
    for (const c of headers.get("Classifier") ?? []) {
      const m = /^License :: (?:OSI Approved :: )?(.+)$/.exec(c);
      if (m && m[1] !== "OSI Approved") licenses.push(m[1]!);
    }
  }
  return [{ type: "pypi", name, version, licenses, location }];
}

/** Where the headers end: the blank line after them, or -1 while it has not been seen. */
export function headerEnd(buf: Buffer): number {
  const i = buf.indexOf("\n\n");
  const j = buf.indexOf("\r\n\r\n");
  return i < 0 ? j : j < 0 ? i : Math.min(i, j);
}
