import { mkdirSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { type Platform, parsePlatform } from "../oci/platform.js";
import { type Candidate, findBaseImage } from "../scout/base-image.js";
import { LayerCache } from "../scout/cache.js";
import type { Inventory } from "../scout/model.js";
import { VulnDb } from "../scout/vulndb/db.js";
import {
  countBySeverity,
  type Finding,
  filterFindings,
  type Matches,
  matchInventory,
} from "../scout/vulndb/match.js";
import type { Severity } from "../scout/vulndb/severity.js";
import type { ImageSource } from "../transfer/types.js";
import { Command, CommanderInvalidArgument } from "./commander.js";
import { type CliContext, withContext } from "./context.js";
import { printRows } from "./output.js";

const TOOL = { name: "berth", version: "0.1.0" };
const collect = (value: string, previous: string[] = []) => [...previous, value];

function scoutDir(ctx: CliContext): string {
  const dir = join(ctx.root, "scout");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A private directory under ROOT/tmp, named as the store names its work in progress (KIND-PID-),
 * so that what a killed scan leaves is swept by the next berth that opens the store; made without
 * opening the store, which a scan of a layout or a registry does not need.
 */
async function scoutTmp(ctx: CliContext): Promise<string> {
  await mkdir(join(ctx.root, "tmp"), { recursive: true });
  return mkdtemp(join(ctx.root, "tmp", `scout-${process.pid}-`));
}

function oneOf(flag: string, allowed: string[]) {
  return (value: string) => {
    if (!allowed.includes(value))
      throw new CommanderInvalidArgument(
        `invalid argument "${value}" for "${flag}" flag: must be one of ${allowed.join(", ")}`,
      );
    return value;
  };
}

const SEVERITY_NAMES: Record<string, Severity> = {
  critical: "critical",
  high: "high",
  medium: "medium",
  low: "low",
  unspecified: "unknown",
};

function parseSeverities(values: string[]): Severity[] {
  const out: Severity[] = [];
  for (const v of values.flatMap((x) => x.split(","))) {
    const s = SEVERITY_NAMES[v.trim().toLowerCase()];
    if (!s)
      throw new UsageError(
        `invalid severity "${v}" for --only-severity: use critical, high, medium, low or unspecified`,
      );
    out.push(s);
  }
  return out;
}

interface ScanFlags {
  platform?: string;
}

/**
 * Scans IMAGE: a local image, `registry://NAME`, `oci-dir://DIR[:TAG]`, `archive://FILE`
 * (a docker-archive or OCI archive) or `fs://DIR`. Layers already analysed come from the cache.
 */
async function scan(ctx: CliContext, image: string, flags: ScanFlags): Promise<Inventory> {
  const platform: Platform | undefined = flags.platform ? parsePlatform(flags.platform) : undefined;
  const dir = scoutDir(ctx);
  const m = /^(registry|oci-dir|archive|fs):\/\/(.*)$/.exec(image);
  if (m && m[2] === "") throw new UsageError(`invalid image "${image}": nothing after "${m[1]}://"`);
  const tmpRoot = await scoutTmp(ctx);
  try {
    if (m?.[1] === "fs") {
      const { inventoryDirectory } = await import("../scout/fs-analysis.js");
      return await inventoryDirectory(m[2]!, image, tmpRoot);
    }
    let source: ImageSource;
    let reference: string;
    let close = async () => {};
    if (m?.[1] === "registry") {
      const { parseReference } = await import("../oci/reference.js");
      const { RegistrySource } = await import("../transfer/registry.js");
      const ref = parseReference(m[2]!);
      source = new RegistrySource(await ctx.repository(ref));
      reference = ref.digest?.toString() ?? ref.tag ?? "latest";
    } else if (m?.[1] === "oci-dir") {
      const { OciLayoutSource } = await import("../archive/oci-layout.js");
      const i = m[2]!.lastIndexOf(":");
      const [path, tag] = i > 0 ? [m[2]!.slice(0, i), m[2]!.slice(i + 1)] : [m[2]!, ""];
      source = new OciLayoutSource(path);
      reference = tag;
    } else if (m?.[1] === "archive") {
      const { openSource } = await import("./transports.js");
      const opened = await openSource(ctx, `docker-archive:${m[2]}`);
      source = opened.source;
      reference = opened.reference;
      close = opened.close;
    } else {
      const { LocalStoreSource } = await import("../transfer/local-store.js");
      source = new LocalStoreSource(ctx.store);
      reference = image;
    }
    const cache = new LayerCache(join(dir, "cache.db"));
    try {
      const { inventoryImage } = await import("../scout/inventory.js");
      const { image: _resolved, ...inv } = await inventoryImage(source, reference, image, {
        cache,
        tmpRoot,
        platform,
      });
      return inv;
    } catch (err) {
      // A name the registry does not know is Docker's "No such image" (a missing layer is a ScanError).
      const { RemoteError } = await import("../remote/errors.js");
      if (m?.[1] === "registry" && err instanceof RemoteError && err.status === 404) {
        const { NoSuchImageError } = await import("../images/resolve.js");
        throw new NoSuchImageError(image);
      }
      throw err;
    } finally {
      cache.close();
      await close();
    }
  } finally {
    await rm(tmpRoot, { recursive: true, force: true });
  }
}

/** Tells what could not be read, on stderr: those packages are missing from what follows. */
function warnUnreadable(inv: Inventory): void {
  for (const u of inv.unreadable) {
    process.stderr.write(`WARNING: ${u.path} (${u.kind}, layer ${u.layer.index + 1}): ${u.error}\n`);
  }
}

async function writeOutput(text: string, output: string | undefined): Promise<void> {
  if (!output) {
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    return;
  }
  // A device or pipe (/dev/null, a FIFO) is written as it is; a file is replaced whole.
  const st = await stat(output).catch(() => undefined);
  if (st && !st.isFile()) {
    await writeFile(output, text.endsWith("\n") ? text : `${text}\n`);
    return;
  }
  const tmp = `${output}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text.endsWith("\n") ? text : `${text}\n`);
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function sbomCommand(): Command {
  return new Command("sbom")
    .description("Generate or display SBOM of an image")
    .argument("<image>", "IMAGE, registry://NAME, oci-dir://DIR[:TAG], archive://FILE or fs://DIR")
    .option(
      "--format <format>",
      "output format: list, json, spdx or cyclonedx",
      oneOf("--format", ["list", "json", "spdx", "cyclonedx"]),
      "list",
    )
    .option("-o, --output <file>", "write the document to a file")
    .option("--platform <platform>", "platform of a multi-platform image to scan")
    .action(
      withContext(async (ctx, image: string, flags: ScanFlags & { format: string; output?: string }) => {
        const inv = await scan(ctx, image, flags);
        warnUnreadable(inv);
        if (flags.format === "list") {
          const rows = inv.packages.map((p) => ({
            Name: p.name,
            Version: p.version,
            Type: p.type,
            Layer: String(p.layer.index + 1),
          }));
          if (flags.output) {
            const { renderFormatted } = await import("./format/table.js");
            await writeOutput(
              renderFormatted(undefined, rows, {
                defaultTable: "table {{.Name}}\t{{.Version}}\t{{.Type}}\t{{.Layer}}",
                headers: { Name: "NAME", Version: "VERSION", Type: "TYPE", Layer: "LAYER" },
              }),
              flags.output,
            );
          } else printRows(rows, undefined, "table {{.Name}}\t{{.Version}}\t{{.Type}}\t{{.Layer}}", {});
          return;
        }
        let text: string;
        if (flags.format === "spdx") text = (await import("../scout/documents/spdx.js")).spdxJson(inv, TOOL);
        else if (flags.format === "cyclonedx")
          text = (await import("../scout/documents/cyclonedx.js")).cyclonedxJson(inv, TOOL);
        else text = JSON.stringify(inv, null, 2);
        await writeOutput(text, flags.output);
      }),
    );
}

function openDb(ctx: CliContext): VulnDb {
  return VulnDb.open(join(scoutDir(ctx), "vulndb.db"));
}

async function scanAndMatch(
  ctx: CliContext,
  image: string,
  flags: ScanFlags,
): Promise<{ inv: Inventory; matches: Matches }> {
  const db = openDb(ctx);
  try {
    const inv = await scan(ctx, image, flags);
    return { inv, matches: matchInventory(inv, db) };
  } finally {
    db.close();
  }
}

const LABEL: Record<Severity, string> = {
  critical: "CRITICAL",
  high: "HIGH",
  medium: "MEDIUM",
  low: "LOW",
  unknown: "UNSPECIFIED",
};

function countsLine(c: Record<Severity, number>): string {
  return `${String(c.critical).padStart(3)}C ${String(c.high).padStart(3)}H ${String(c.medium).padStart(3)}M ${String(c.low).padStart(3)}L${c.unknown ? ` ${String(c.unknown).padStart(3)}?` : ""}`;
}

/** `--format packages`: docker scout's layout, vulnerabilities grouped by package. */
function renderPackages(inv: Inventory, findings: Finding[], notChecked: number): string {
  const out: string[] = [];
  out.push(`## Overview\n`);
  out.push(`                    │       Analyzed Image`);
  out.push(`────────────────────┼──────────────────────────────`);
  out.push(`  Target            │  ${inv.name}`);
  if (inv.manifestDigest) out.push(`    digest          │  ${inv.manifestDigest}`);
  if (inv.platform) out.push(`    platform        │ ${inv.platform}`);
  if (inv.distro) out.push(`    distro          │ ${inv.distro.prettyName ?? inv.distro.id}`);
  out.push(`    vulnerabilities │ ${countsLine(countBySeverity(findings))}`);
  out.push(`    packages        │ ${inv.packages.length}${notChecked ? ` (${notChecked} not checked)` : ""}`);
  out.push("");
  out.push("## Packages and Vulnerabilities\n");
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = groups.get(f.package.purl) ?? [];
    list.push(f);
    groups.set(f.package.purl, list);
  }
  for (const list of groups.values()) {
    const p = list[0]!.package;
    out.push(`${countsLine(countBySeverity(list))}  ${p.name} ${p.version}`);
    out.push(p.purl);
    out.push("");
    for (const f of list) {
      out.push(`    ✗ ${LABEL[f.severity]} ${f.id}${f.score !== undefined ? ` (CVSS ${f.score})` : ""}`);
      out.push(`      ${f.url}`);
      if (f.cveUrl && f.cveUrl !== f.url) out.push(`      ${f.cveUrl}`);
      if (f.summary)
        out.push(`      ${f.summary.length > 160 ? `${f.summary.slice(0, 157)}...` : f.summary}`);
      out.push(`      Fixed version : ${f.fixedIn[0] ?? "not fixed"}`);
      out.push(
        `      Layer         : ${p.layer.index + 1}${p.layer.digest ? ` ${p.layer.digest}` : ""}${p.layer.createdBy ? ` (${p.layer.createdBy.trim()})` : ""}`,
      );
      out.push("");
    }
  }
  const c = countBySeverity(findings);
  out.push(
    `${findings.length} vulnerabilit${findings.length === 1 ? "y" : "ies"} found in ${groups.size} package${groups.size === 1 ? "" : "s"}`,
  );
  for (const s of ["critical", "high", "medium", "low", "unknown"] as Severity[])
    out.push(`  ${LABEL[s].padEnd(12)}${c[s]}`);
  return `${out.join("\n")}\n`;
}

function cvesCommand(): Command {
  return new Command("cves")
    .description("Display CVEs identified in an image")
    .argument("<image>", "IMAGE, registry://NAME, oci-dir://DIR[:TAG], archive://FILE or fs://DIR")
    .option(
      "--only-severity <severities>",
      "comma-separated list of severities (critical, high, medium, low, unspecified)",
      collect,
    )
    .option("--only-fixed", "only vulnerabilities with a fix")
    .option("--only-package <name>", "only vulnerabilities of this package (name or source package)", collect)
    .option(
      "--format <format>",
      "output format: packages, json, sarif or markdown",
      oneOf("--format", ["packages", "json", "sarif", "markdown"]),
      "packages",
    )
    .option("-o, --output <file>", "write the report to a file")
    .option("--exit-code", "exit with status 2 when a vulnerability matches")
    .option("--platform <platform>", "platform of a multi-platform image to scan")
    .action(
      withContext(
        async (
          ctx,
          image: string,
          flags: ScanFlags & {
            onlySeverity?: string[];
            onlyFixed?: boolean;
            onlyPackage?: string[];
            format: string;
            output?: string;
            exitCode?: boolean;
          },
        ) => {
          const severities = flags.onlySeverity ? parseSeverities(flags.onlySeverity) : undefined;
          const { inv, matches } = await scanAndMatch(ctx, image, flags);
          warnUnreadable(inv);
          const findings = filterFindings(matches.findings, {
            severities,
            onlyFixed: flags.onlyFixed,
            packages: flags.onlyPackage,
          });
          const docs = await import("../scout/documents/cve-report.js");
          const text =
            flags.format === "json"
              ? docs.cvesJson(inv, findings)
              : flags.format === "sarif"
                ? docs.cvesSarif(inv, findings, TOOL)
                : flags.format === "markdown"
                  ? docs.cvesMarkdown(inv, findings)
                  : renderPackages(inv, findings, matches.notChecked.length);
          await writeOutput(text, flags.output);
          if (flags.exitCode && findings.length > 0) process.exitCode = 2;
        },
      ),
    );
}

/** Local images, with their layers, as base-image candidates. */
function candidates(ctx: CliContext): Candidate[] {
  const db = ctx.store.db;
  return db.images().map((img) => ({
    imageId: img.id,
    diffIds: db.imageLayers(img.id).map((l) => l.diffId),
    names: db.tagsOf(img.id).map((t) => `${t.repository.replace(/^docker\.io\/(library\/)?/, "")}:${t.tag}`),
  }));
}

function quickviewCommand(): Command {
  return new Command("quickview")
    .alias("qv")
    .description("Quick overview of an image: vulnerabilities of the image and of its base image")
    .argument("<image>", "IMAGE, registry://NAME, oci-dir://DIR[:TAG], archive://FILE or fs://DIR")
    .option("--platform <platform>", "platform of a multi-platform image to scan")
    .action(
      withContext(async (ctx, image: string, flags: ScanFlags) => {
        const { inv, matches } = await scanAndMatch(ctx, image, flags);
        warnUnreadable(inv);
        const diffIds = inv.layers.map((l) => l.diffId).filter(Boolean);
        const base = diffIds.length ? findBaseImage(diffIds, candidates(ctx), inv.imageId) : undefined;
        const rows: string[] = [];
        const line = (label: string, name: string, counts: string) =>
          `  ${label.padEnd(12)}│ ${name.padEnd(40)}│ ${counts}`;
        rows.push(line("Target", inv.name, countsLine(countBySeverity(matches.findings))));
        if (inv.manifestDigest) rows.push(`    digest    │ ${inv.manifestDigest}`);
        if (base) {
          const baseScan = await scanAndMatch(ctx, base.imageId, flags);
          rows.push(
            line(
              "Base image",
              base.names[0] ?? base.imageId.slice(7, 19),
              countsLine(countBySeverity(baseScan.matches.findings)),
            ),
          );
          rows.push(`    layers    │ ${base.diffIds.length} of ${diffIds.length}`);
        } else {
          rows.push(`  Base image  │ none found (no local image's layers are a prefix of this image's)`);
        }
        process.stdout.write(`${rows.join("\n")}\n`);
      }),
    );
}

function dbCommand(): Command {
  const update = new Command("update")
    .description(
      "Update the vulnerability database from the feeds (atomic: a failed update keeps the previous database)",
    )
    .option(
      "--source <url|file|dir>",
      "a feed to read: OSV records or all.zip, Debian security tracker JSON, Alpine secdb JSON (repeatable; default: the public feeds)",
      collect,
    )
    .action(
      withContext(async (ctx, flags: { source?: string[] }) => {
        const dir = scoutDir(ctx);
        const { DEFAULT_SOURCES, updateVulnDb } = await import("../scout/vulndb/update.js");
        const sources = flags.source?.length ? flags.source : DEFAULT_SOURCES;
        const tmpRoot = await scoutTmp(ctx);
        try {
          const reports = await updateVulnDb(join(dir, "vulndb.db"), sources, tmpRoot);
          let total = 0;
          for (const r of reports) {
            total += r.advisories;
            const skipped = Object.entries(r.skipped);
            const n = skipped.reduce((s, [, v]) => s + v, 0);
            process.stdout.write(
              `${r.source}: ${r.format}, ${r.records} records, ${r.advisories} advisories, ${n} skipped${n ? ` (${skipped.map(([k, v]) => `${v} ${k}`).join(", ")})` : ""}${r.feedDate ? `, feed date ${r.feedDate}` : ""}\n`,
            );
          }
          process.stdout.write(
            `Vulnerability database updated: ${total} advisories from ${reports.length} feed${reports.length === 1 ? "" : "s"}\n`,
          );
        } finally {
          await rm(tmpRoot, { recursive: true, force: true });
        }
      }),
    );
  const status = new Command("status")
    .description("Show the vulnerability database's feeds and their dates")
    .option("--format <format>", "format output using a custom template, or json")
    .action(
      withContext(async (ctx, flags: { format?: string }) => {
        const db = openDb(ctx);
        try {
          const rows = db.feeds().map((f) => ({
            Source: f.source,
            Format: f.format,
            FeedDate: f.feedDate ?? "unknown",
            Updated: f.updatedAt,
            Advisories: String(f.advisories),
            Skipped: String(Object.values(f.skipped).reduce((s, v) => s + v, 0)),
          }));
          printRows(
            rows,
            flags.format,
            "table {{.Source}}\t{{.Format}}\t{{.FeedDate}}\t{{.Updated}}\t{{.Advisories}}\t{{.Skipped}}",
            { FeedDate: "FEED DATE" },
          );
        } finally {
          db.close();
        }
      }),
    );
  return new Command("db")
    .description("Manage the vulnerability database")
    .addCommand(update)
    .addCommand(status);
}

export function scoutCommand(): Command {
  return new Command("scout")
    .description("What is inside an image: packages (SBOM) and known vulnerabilities")
    .addCommand(sbomCommand())
    .addCommand(cvesCommand())
    .addCommand(quickviewCommand())
    .addCommand(dbCommand());
}
