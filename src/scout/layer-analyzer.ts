import { closeSync, openSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type TarEntry, TarReader, type TarSink } from "../layer/tar.js";
import { OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX } from "../layer/whiteouts.js";
import { parseApkInstalled } from "./catalog/apk.js";
import { parseDebianCopyright, parseDpkgStatus } from "./catalog/dpkg.js";
import { GoBinaryProbe } from "./catalog/go-buildinfo.js";
import { parsePackageJson, parsePackageLock } from "./catalog/node.js";
import { parseOsRelease } from "./catalog/os-release.js";
import { headerEnd, parsePythonMetadata } from "./catalog/python.js";
import type { LayerAnalysis, SourceFinding, SourceKind } from "./model.js";

/**
 * Reads one layer's tar as it streams by and finds its package sources, holding only the files
 * that are package data (each up to a limit) and a bounded window of executables: a 1 GB
 * METADATA, a corrupt jar or an ELF whose headers lie costs a bounded amount of memory and gives
 * an "unreadable" finding for that file, never a failed scan. The result depends on the layer's
 * bytes alone, so it is cached by diff_id.
 */
export interface Limits {
  /** dpkg status, apk installed, npm lock files. */
  database: number;
  /** package.json, the headers of Python metadata. */
  metadata: number;
  /** Debian copyright files, os-release. */
  small: number;
  /** Files spooled to disk (jars, rpmdb.sqlite). */
  spool: number;
}

export const DEFAULT_LIMITS: Limits = {
  database: 64 * 1024 * 1024,
  metadata: 1024 * 1024,
  small: 256 * 1024,
  spool: 1024 * 1024 * 1024,
};

export interface AnalyzeOptions {
  /** A private directory for spooled files (jars, rpm databases). */
  tmpDir: string;
  limits?: Partial<Limits>;
}

type Plan =
  | { how: "buffer"; kind: SourceKind; limit: number; headersOnly?: boolean }
  | { how: "spool"; kind: "java" | "rpm" }
  | { how: "error"; kind: SourceKind; error: string }
  | { how: "elf" };

const DPKG_STATUS_D = /^var\/lib\/dpkg\/status\.d\/[^/]+$/;
const COPYRIGHT = /^usr\/share\/doc\/([^/]+)\/copyright$/;
const RPMDB = /^(?:var\/lib\/rpm|usr\/lib\/sysimage\/rpm)\/rpmdb\.sqlite$/;
const RPM_OLD =
  /^(?:var\/lib\/rpm\/Packages|var\/lib\/rpm\/Packages\.db|usr\/lib\/sysimage\/rpm\/Packages\.db)$/;
const PYTHON = /\.dist-info\/METADATA$|\.egg-info\/PKG-INFO$|\.egg-info$/;
const NODE_PKG = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/;
const NODE_LOCK = /(?:^|\/)package-lock\.json$/;
const JAR = /\.(?:jar|war|ear|jpi|hpi)$/i;

/** What to do with a regular file of a layer, by its path (relative, no leading slash). */
export function planFor(path: string, mode: number, size: number, limits: Limits): Plan | undefined {
  if (path === "var/lib/dpkg/status" || (DPKG_STATUS_D.test(path) && !path.endsWith(".md5sums")))
    return { how: "buffer", kind: "dpkg", limit: limits.database };
  if (COPYRIGHT.test(path)) return { how: "buffer", kind: "dpkg-copyright", limit: limits.small };
  if (path === "lib/apk/db/installed") return { how: "buffer", kind: "apk", limit: limits.database };
  if (RPMDB.test(path)) return { how: "spool", kind: "rpm" };
  if (RPM_OLD.test(path)) {
    return {
      how: "error",
      kind: "rpm",
      error: `only the older ${path.endsWith(".db") ? "NDB" : "BerkeleyDB"} rpm database is present (rpm 4.16 and later write rpmdb.sqlite, which Berth reads): its packages are not listed`,
    };
  }
  if (path === "etc/os-release" || path === "usr/lib/os-release")
    return { how: "buffer", kind: "os-release", limit: limits.small };
  if (PYTHON.test(path)) return { how: "buffer", kind: "python", limit: limits.metadata, headersOnly: true };
  if (NODE_PKG.test(path)) return { how: "buffer", kind: "node", limit: limits.metadata };
  if (NODE_LOCK.test(path) && !path.includes("node_modules/"))
    return { how: "buffer", kind: "node-lock", limit: limits.database };
  if (JAR.test(path)) return { how: "spool", kind: "java" };
  if ((mode & 0o111) !== 0 && size >= 64) return { how: "elf" };
  return undefined;
}

/** Parses a buffered package source; throws on data it cannot read. */
function parseBuffered(kind: SourceKind, path: string, text: string): Partial<SourceFinding> {
  const location = `/${path}`;
  switch (kind) {
    case "dpkg": {
      // dpkg ends every entry with a newline: a file that does not end in one was cut short, and
      // its last entry (its version, maybe) cannot be trusted.
      if (text !== "" && !text.endsWith("\n")) {
        const complete = text.slice(0, Math.max(0, text.lastIndexOf("\n\n")) + 1);
        return {
          packages: parseDpkgStatus(complete, location),
          error: "truncated (it does not end with a newline): its last entry is not listed",
        };
      }
      return { packages: parseDpkgStatus(text, location) };
    }
    case "dpkg-copyright": {
      const pkg = COPYRIGHT.exec(path)![1]!;
      return { packages: [], licenses: { [pkg]: parseDebianCopyright(text) } };
    }
    case "apk":
      return { packages: parseApkInstalled(text, location) };
    case "os-release": {
      const distro = parseOsRelease(text);
      return distro ? { packages: [], distro } : { packages: [], error: "no ID in os-release" };
    }
    case "python":
      return { packages: parsePythonMetadata(text, location) };
    case "node":
      return { packages: parsePackageJson(text, location) };
    case "node-lock":
      return { packages: parsePackageLock(text, location) };
    default:
      throw new Error(`no parser for ${kind}`);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Normalises a tar path: relative, without `.` parts; undefined for one that climbs out (`..`). */
export function normalizePath(name: string): string | undefined {
  const parts: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") return undefined;
    parts.push(p);
  }
  return parts.join("/");
}

interface Collector {
  data(chunk: Buffer): void;
  end(): void;
  /** False once the collector has all it needs of the file (an executable's window was read). */
  wanting?(): boolean;
}

export class LayerAnalyzer implements TarSink {
  private readonly limits: Limits;
  private readonly result: LayerAnalysis = { sources: [], deleted: [], opaque: [] };
  private current?: Collector;
  private readonly pending = new Set<Promise<void>>();
  private spoolCount = 0;

  constructor(private readonly opts: AnalyzeOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  /** Whether the current file's remaining bytes are wanted (a directory walk stops reading when not). */
  get wantsData(): boolean {
    return this.current?.wanting?.() ?? this.current !== undefined;
  }

  /** Spooled files still being read (jars, rpm databases): the feeder waits when there are many. */
  get backlog(): number {
    return this.pending.size;
  }

  /** Waits for the spooled files' analyses; a feeder calls it when the backlog grows. */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async finish(): Promise<LayerAnalysis> {
    await this.drain();
    this.result.sources.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.result;
  }

  entry(e: TarEntry): void {
    this.current = undefined;
    const path = normalizePath(e.name);
    if (path === undefined || path === "") return;
    const slash = path.lastIndexOf("/");
    const dir = slash < 0 ? "" : path.slice(0, slash);
    const base = path.slice(slash + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (base === OPAQUE_MARKER) this.result.opaque.push(dir);
      else if (!base.startsWith(WHITEOUT_META_PREFIX))
        this.result.deleted.push(
          dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length),
        );
      return;
    }
    if (e.type !== "file") return;
    const plan = planFor(path, e.mode, e.size, this.limits);
    if (!plan) return;
    switch (plan.how) {
      case "error":
        this.result.sources.push({ path, kind: plan.kind, packages: [], error: plan.error });
        return;
      case "buffer":
        this.current = this.bufferCollector(path, plan.kind, plan.limit, e.size, plan.headersOnly === true);
        return;
      case "spool":
        this.current = this.spoolCollector(path, plan.kind, e.size);
        return;
      case "elf":
        this.current = this.elfCollector(path, e.size);
        return;
    }
  }

  data(chunk: Buffer): void {
    this.current?.data(chunk);
  }

  entryEnd(): void {
    this.current?.end();
    this.current = undefined;
  }

  private add(path: string, kind: SourceKind, found: Partial<SourceFinding>): void {
    this.result.sources.push({ path, kind, packages: [], ...found });
  }

  private bufferCollector(
    path: string,
    kind: SourceKind,
    limit: number,
    size: number,
    headersOnly: boolean,
  ): Collector {
    const chunks: Buffer[] = [];
    let held = 0;
    let full = false;
    return {
      data: (chunk) => {
        if (full) return;
        const room = limit - held;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(Buffer.from(part));
        held += part.length;
        if (held >= limit) full = true;
      },
      end: () => {
        let buf = Buffer.concat(chunks);
        if (headersOnly) {
          const end = headerEnd(buf);
          if (end >= 0) buf = buf.subarray(0, end);
          else if (size > limit) {
            this.add(path, kind, { error: `its headers are larger than ${limit} bytes: not read` });
            return;
          }
        } else if (size > limit) {
          this.add(path, kind, { error: `larger than ${limit} bytes (${size}): not read` });
          return;
        }
        try {
          this.add(path, kind, parseBuffered(kind, path, buf.toString("utf8")));
        } catch (err) {
          this.add(path, kind, { error: `cannot be parsed: ${describe(err)}` });
        }
      },
    };
  }

  private spoolCollector(path: string, kind: "java" | "rpm", size: number): Collector {
    if (size > this.limits.spool) {
      this.add(path, kind, { error: `larger than ${this.limits.spool} bytes (${size}): not read` });
      return { data: () => {}, end: () => {} };
    }
    const file = join(this.opts.tmpDir, `spool-${this.spoolCount++}${kind === "java" ? ".jar" : ".sqlite"}`);
    let fd: number | undefined = openSync(file, "w", 0o600);
    return {
      data: (chunk) => {
        if (fd !== undefined) writeSync(fd, chunk);
      },
      end: () => {
        if (fd !== undefined) closeSync(fd);
        fd = undefined;
        const location = `/${path}`;
        const task = (async () => {
          try {
            // The zip reader and SQLite are loaded only for a layer that has a jar or an rpm database.
            const packages =
              kind === "java"
                ? await (await import("./catalog/java.js")).analyzeJar(file, location, this.opts.tmpDir)
                : (await import("./catalog/rpm.js")).readRpmDb(file, location);
            this.add(path, kind, { packages });
          } catch (err) {
            this.add(path, kind, { error: `cannot be read: ${describe(err)}` });
          } finally {
            await rm(file, { force: true });
          }
        })();
        this.pending.add(task);
        void task.then(() => this.pending.delete(task));
      },
    };
  }

  private elfCollector(path: string, size: number): Collector {
    // Any executable: the probe gives up after the first 64 bytes of one that is not an ELF file.
    const probe = new GoBinaryProbe(size, `/${path}`);
    return {
      data: (chunk) => {
        if (probe.wanting) probe.push(chunk);
      },
      wanting: () => probe.wanting,
      end: () => {
        const r = probe.finish();
        if (r.kind === "go") this.add(path, "go", { packages: r.packages });
        else if (r.kind === "error") this.add(path, "go", { error: r.error });
      },
    };
  }
}

/** Analyses one layer's uncompressed tar stream. */
export async function analyzeTar(
  chunks: AsyncIterable<Buffer>,
  opts: AnalyzeOptions,
): Promise<LayerAnalysis> {
  const analyzer = new LayerAnalyzer(opts);
  const reader = new TarReader(analyzer);
  for await (const chunk of chunks) {
    reader.push(chunk);
    if (analyzer.backlog >= 4) await analyzer.drain();
  }
  reader.end();
  return analyzer.finish();
}
