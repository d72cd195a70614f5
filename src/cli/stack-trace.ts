import { readFileSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A stack trace with each position in compiled JavaScript that has a source map beside it (the
 * esbuild bundle's, tsc's) replaced by the TypeScript position it came from, so that a bug
 * report points at src/. Node maps stacks itself only under --enable-source-maps, whose cost
 * every start would pay (it reads each module's map as the module loads); this reads the maps
 * only when a stack is printed.
 */
export function sourceMappedStack(stack: string): string {
  const maps = new Map<string, { map: SourceMap; dir: string } | null>();
  const mapOf = (file: string) => {
    if (!maps.has(file)) {
      try {
        const payload = JSON.parse(readFileSync(`${file}.map`, "utf8")) as SourceMapPayload;
        maps.set(file, { map: new SourceMap(payload), dir: dirname(file) });
      } catch {
        maps.set(file, null);
      }
    }
    return maps.get(file);
  };
  return stack.replace(/((?:file:\/\/)?\/[^\s():]+\.js):(\d+):(\d+)/g, (whole, location, line, column) => {
    const file = location.startsWith("file://") ? fileURLToPath(location) : location;
    const found = mapOf(file);
    if (!found) return whole;
    const entry = found.map.findEntry(Number(line) - 1, Number(column) - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (entry.originalSource === undefined || entry.originalLine === undefined) return whole;
    const source = entry.originalSource.startsWith("file://")
      ? fileURLToPath(entry.originalSource)
      : isAbsolute(entry.originalSource)
        ? entry.originalSource
        : resolve(found.dir, entry.originalSource);
    return `${source}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
  });
}
