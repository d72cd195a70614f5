import { UsageError } from "../errors.js";
import type { ImageDb } from "../images/db.js";
import { type ContainerView, viewOf } from "../runtime/observe.js";
import { ContainerPaths } from "../runtime/paths.js";
import { ContainerDb } from "../runtime/records.js";
import { commandText, imageText, portsText, statusText } from "../runtime/status.js";
import { Command } from "./commander.js";
import { withContext } from "./context.js";
import { plainTable } from "./format/columns.js";
import { ellipsis, humanDuration, humanSize, timeAgo } from "./format/units.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  size?: boolean;
  last?: string;
  latest?: boolean;
  trunc: boolean;
  filter?: string[];
  format?: string;
}

const STATUSES = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

export function psCommand(name = "ps"): Command {
  return new Command(name)
    .description("List containers")
    .option("-a, --all", "show all containers (default shows just running)")
    .option("-q, --quiet", "only display container IDs")
    .option("-s, --size", "display total file sizes")
    .option("-n, --last <n>", "show n last created containers (includes all states)")
    .option("-l, --latest", "show the latest created container (includes all states)")
    .option("--no-trunc", "don't truncate output")
    .option("-f, --filter <filter>", "filter output based on conditions provided", collect)
    .option("--format <format>", "format output using a custom template")
    .action(
      withContext(async (ctx, flags: PsFlags) => {
        // Records and liveness only: ps loads neither the runtime's process code nor, without
        // --format, the template engine.
        const filters = parseFilters(flags.filter ?? []);
        let list = new ContainerDb(ctx.store.db.connection).all().map((r) => viewOf(r, ctx.store.root));
        const last = flags.latest ? 1 : flags.last !== undefined ? Number(flags.last) : -1;
        if (flags.last !== undefined && !/^-?\d+$/.test(flags.last))
          throw new UsageError(`invalid argument "${flags.last}" for "-n, --last" flag`);
        const all = flags.all || last > 0 || filters.some((f) => f.key === "status" || f.key === "exited");
        if (!all)
          list = list.filter((c) => c.observed.state === "running" || c.observed.state === "restarting");
        const ancestors = await ancestorIds(ctx.store.db, filters);
        list = list.filter((c) => filters.every((f) => matches(c, f, ancestors)));
        if (last > 0) list = list.slice(0, last);
        const id = (full: string) => (flags.trunc ? full.slice(0, 12) : full);
        // docker checks a --format before listing, on an empty row, whether or not -q drops it.
        if (flags.format) {
          if (flags.quiet) {
            process.stderr.write(
              "WARNING: Ignoring custom format, because both --format and --quiet are set.\n",
            );
          }
          const { validatePsFormat, withLabelMethods } = await import("./format/table.js");
          validatePsFormat(flags.format, withLabelMethods(emptyRow(), {}), PS_ROW_TYPE);
        }
        if (flags.quiet) {
          process.stdout.write(list.map((c) => `${id(c.id)}\n`).join(""));
          return;
        }
        const now = Date.now();
        const rows: PsFields[] = [];
        const rowLabels: Record<string, string>[] = [];
        for (const c of list) {
          const command = commandText(c);
          const labels = Object.entries(c.settings.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
          rowLabels.push(c.settings.labels);
          rows.push({
            ID: id(c.id),
            Image: imageText(c, ctx.store.db, flags.trunc),
            Command: JSON.stringify(flags.trunc ? ellipsis(command, 20) : command),
            CreatedAt: goTime(new Date(c.created)),
            RunningFor: timeAgo(new Date(c.created), now),
            Ports: portsText(c),
            State: c.observed.state,
            Status: statusText(c, now, humanDuration),
            Size: flags.size
              ? await sizeText(
                  new ContainerPaths(ctx.store.root, c.id).upper,
                  ctx.store.db.image(c.imageId)?.size ?? 0,
                )
              : "",
            Names: c.name,
            Labels: labels,
            Mounts: c.settings.mounts.map((m) => m.name ?? m.source).join(","),
            Networks: c.settings.network === "default" ? "bridge" : c.settings.network,
          });
        }
        const columns = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"];
        if (flags.size) columns.push("Size");
        if (flags.format === undefined || flags.format === "" || flags.format === "table") {
          process.stdout.write(plainTable(columns, HEADERS, rows));
          return;
        }
        const { printRows } = await import("./output.js");
        const { withLabelMethods } = await import("./format/table.js");
        printRows(
          rows.map((r, i) => withLabelMethods(r, rowLabels[i]!)),
          flags.format,
          `table ${columns.map((c) => `{{.${c}}}`).join("\t")}`,
          HEADERS,
          process.stdout,
          PS_ROW_TYPE,
        );
      }),
    );
}

/** The Go type of docker's ps rows, as its template errors name it. */
const PS_ROW_TYPE = "*formatter.ContainerContext";

type PsFields = Record<
  | "ID"
  | "Image"
  | "Command"
  | "CreatedAt"
  | "RunningFor"
  | "Ports"
  | "State"
  | "Status"
  | "Size"
  | "Names"
  | "Labels"
  | "Mounts"
  | "Networks",
  string
>;

function emptyRow(): PsFields {
  const row = {} as PsFields;
  for (const k of Object.keys(HEADERS)) row[k as keyof PsFields] = "";
  return row;
}

const HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Image: "IMAGE",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  RunningFor: "CREATED",
  Ports: "PORTS",
  State: "STATE",
  Status: "STATUS",
  Size: "SIZE",
  Names: "NAMES",
  Labels: "LABELS",
  Mounts: "MOUNTS",
  Networks: "NETWORKS",
};

interface Filter {
  key: string;
  value: string;
}

function parseFilters(list: string[]): Filter[] {
  return list.map((f) => {
    const eq = f.indexOf("=");
    if (eq < 0) throw new UsageError(`bad format of filter (expected name=value)`);
    const key = f.slice(0, eq).toLowerCase();
    const value = f.slice(eq + 1);
    if (!["id", "name", "label", "status", "exited", "ancestor"].includes(key))
      throw new UsageError(`invalid filter '${key}'`);
    if (key === "status" && !STATUSES.includes(value))
      throw new UsageError(`invalid filter 'status=${value}'`);
    if (key === "exited" && !/^-?\d+$/.test(value)) throw new UsageError(`invalid filter 'exited=${value}'`);
    return { key, value };
  });
}

/** `ancestor=`: the images the filter names (by name or ID), so containers match by image ID. */
async function ancestorIds(db: ImageDb, filters: Filter[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (!filters.some((f) => f.key === "ancestor")) return out;
  const { resolveLocalImage } = await import("../images/resolve.js");
  for (const f of filters) {
    if (f.key !== "ancestor") continue;
    try {
      out.add(resolveLocalImage(db, f.value).imageId);
    } catch {}
  }
  return out;
}

function matches(c: ContainerView, f: Filter, ancestors: Set<string>): boolean {
  switch (f.key) {
    case "id":
      return c.id.startsWith(f.value);
    case "name":
      return new RegExp(f.value.replace(/^\//, "")).test(c.name);
    case "label": {
      const eq = f.value.indexOf("=");
      if (eq < 0) return f.value in c.settings.labels;
      return c.settings.labels[f.value.slice(0, eq)] === f.value.slice(eq + 1);
    }
    case "status":
      return c.observed.state === f.value;
    case "exited":
      return c.observed.state === "exited" && c.observed.exitCode === Number(f.value);
    case "ancestor":
      return ancestors.has(c.imageId) || c.image === f.value;
    default:
      return true;
  }
}

async function sizeText(upper: string, virtual: number): Promise<string> {
  const own = await duBytes(upper);
  return `${humanSize(own)} (virtual ${humanSize(own + virtual)})`;
}

/** A container's layer size as Docker counts it (layer/size.ts: file contents and symlink targets, each inode once). */
export async function duBytes(dir: string): Promise<number> {
  return (await import("../layer/size.js")).directorySize(dir);
}

function goTime(d: Date): string {
  return `${d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "")} +0000 UTC`;
}
