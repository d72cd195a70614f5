import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import type { RawPackage } from "../model.js";

/**
 * A Java archive (jar, war, ear) read through its zip central directory: Maven coordinates from
 * each `META-INF/maven/GROUP/ARTIFACT/pom.properties` (a shaded jar holds several), else the
 * manifest's name and version, else the file name. Jars inside a war or a Spring Boot jar
 * (`WEB-INF/lib/`, `BOOT-INF/lib/`) are read one level deep. Each entry read is bounded.
 */
const ENTRY_LIMIT = 256 * 1024;
const NESTED_LIMIT = 64 * 1024 * 1024;
const MAX_ENTRIES = 200_000;

function open(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true },
      (err, zip) => (err ? reject(err) : resolve(zip!)),
    ),
  );
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (entry.uncompressedSize > ENTRY_LIMIT) {
      reject(new Error(`${entry.fileName} is larger than ${ENTRY_LIMIT} bytes`));
      return;
    }
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      stream!.on("data", (c: Buffer) => chunks.push(c));
      stream!.on("error", reject);
      stream!.on("end", () => resolve(Buffer.concat(chunks)));
    });
  });
}

function properties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#!=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** MANIFEST.MF's main section: `Key: value` lines, 72-byte lines continued with a leading space. */
function manifest(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (line.startsWith(" ") && last) out[last] += line.slice(1);
    else {
      const i = line.indexOf(": ");
      if (i > 0) {
        last = line.slice(0, i);
        out[last] = line.slice(i + 2);
      }
    }
  }
  return out;
}

function fromFileName(fileName: string): { name: string; version: string } | undefined {
  const base = fileName.replace(/^.*\//, "").replace(/\.(jar|war|ear|jpi|hpi)$/i, "");
  const m = /^(.+?)-(\d[\w.+-]*)$/.exec(base);
  return m ? { name: m[1]!, version: m[2]! } : undefined;
}

export async function analyzeJar(
  file: string,
  location: string,
  tmpDir: string,
  depth = 0,
): Promise<RawPackage[]> {
  const zip = await open(file);
  const out: RawPackage[] = [];
  let mf: Record<string, string> | undefined;
  const nested: string[] = [];
  try {
    let count = 0;
    await new Promise<void>((resolve, reject) => {
      zip.on("error", reject);
      zip.on("end", () => resolve());
      zip.on("entry", (entry: yauzl.Entry) => {
        if (++count > MAX_ENTRIES) return reject(new Error(`more than ${MAX_ENTRIES} entries`));
        const name = entry.fileName;
        const next = () => zip.readEntry();
        if (/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(name)) {
          readEntry(zip, entry).then((b) => {
            const p = properties(b.toString("utf8"));
            if (p.groupId && p.artifactId && p.version) {
              out.push({
                type: "maven",
                name: `${p.groupId}:${p.artifactId}`,
                version: p.version,
                licenses: [],
                location,
              });
            }
            next();
          }, reject);
        } else if (name === "META-INF/MANIFEST.MF") {
          readEntry(zip, entry).then((b) => {
            mf = manifest(b.toString("utf8"));
            next();
          }, reject);
        } else if (
          depth === 0 &&
          /^(WEB-INF|BOOT-INF)\/lib\/[^/]+\.jar$/.test(name) &&
          entry.uncompressedSize <= NESTED_LIMIT
        ) {
          const target = join(tmpDir, `nested-${nested.length}-${process.pid}.jar`);
          zip.openReadStream(entry, (err, stream) => {
            if (err) return reject(err);
            pipeline(stream!, createWriteStream(target)).then(() => {
              nested.push(`${target}\n${name}`);
              next();
            }, reject);
          });
        } else next();
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  if (out.length === 0) {
    const title = mf?.["Implementation-Title"] ?? mf?.["Bundle-SymbolicName"]?.split(";")[0];
    const version = mf?.["Implementation-Version"] ?? mf?.["Bundle-Version"];
    const guess = fromFileName(location);
    const name = guess?.name ?? title;
    const v = version ?? guess?.version;
    if (name && v) {
      const license = mf?.["Bundle-License"];
      out.push({ type: "maven", name, version: v, licenses: license ? [license] : [], location });
    }
  }
  for (const item of nested) {
    const [path, name] = item.split("\n") as [string, string];
    try {
      out.push(...(await analyzeJar(path, `${location}!/${name}`, tmpDir, depth + 1)));
    } catch {
      // A broken jar inside a good one: the outer jar's packages still count.
    } finally {
      await rm(path, { force: true });
    }
  }
  return out;
}
