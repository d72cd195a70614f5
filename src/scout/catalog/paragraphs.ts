/**
 * Debian control-file paragraphs (dpkg's status, Python's METADATA headers use the same
 * RFC 822 shape): `Field: value`, continuation lines starting with a space or tab, paragraphs
 * separated by blank lines. Field names are kept as written; repeated fields are collected.
 */
export type Paragraph = Map<string, string[]>;

export function parseParagraphs(text: string, stopAtFirst = false): Paragraph[] {
  const out: Paragraph[] = [];
  let current: Paragraph = new Map();
  let lastKey: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") {
      if (current.size > 0) {
        out.push(current);
        if (stopAtFirst) return out;
      }
      current = new Map();
      lastKey = undefined;
      continue;
    }
    if ((line[0] === " " || line[0] === "\t") && lastKey) {
      const values = current.get(lastKey)!;
      values[values.length - 1] += `\n${line.slice(1)}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon).trim();
    const values = current.get(lastKey) ?? [];
    values.push(line.slice(colon + 1).trim());
    current.set(lastKey, values);
  }
  if (current.size > 0) out.push(current);
  return out;
}

export function field(p: Paragraph, name: string): string | undefined {
  return p.get(name)?.[0];
}
