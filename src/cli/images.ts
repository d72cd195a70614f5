import { funcOf, STRING } from "../gotemplate/types.js";
import { goFunc } from "../gotemplate/values.js";
import { imageHistory, inspectImage } from "../images/describe.js";
import { listImages, parseImageFilters } from "../images/list.js";
import { resolveLocalImage } from "../images/resolve.js";
import { Digest } from "../oci/digest.js";
import { parseImageConfig } from "../oci/manifest.js";
import { Command, CommanderInvalidArgument } from "./commander.js";
import { withContext } from "./context.js";
import { humanSize, timeAgo, truncateId } from "./format/units.js";
import { printInspect, printRows } from "./output.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface ImagesFlags {
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  trunc: boolean;
  filter?: string[];
  format?: string;
}

export function imagesCommand(name = "images"): Command {
  return new Command(name)
    .description("List images")
    .argument("[repository]", "REPOSITORY[:TAG]")
    .option("-a, --all", "show all images (default hides intermediate images)")
    .option("-q, --quiet", "only show image IDs")
    .option("--digests", "show digests")
    .option("--no-trunc", "don't truncate output")
    .option("-f, --filter <filter>", "filter output based on conditions provided", collect)
    .option("--format <format>", "format output using a custom template")
    .action(
      withContext(async (ctx, repository: string | undefined, flags: ImagesFlags) => {
        const filters = parseImageFilters([
          ...(flags.filter ?? []),
          ...(repository ? [`reference=${repository}`] : []),
        ]);
        const rows = await listImages(ctx.store, { all: flags.all, digests: flags.digests, filters });
        const now = Date.now();
        const id = (full: string) => (flags.trunc ? truncateId(full) : full);
        if (flags.quiet) {
          // One ID per row, as docker's: an image with two tags is listed twice.
          for (const r of rows) process.stdout.write(`${id(r.image.id)}\n`);
          return;
        }
        // Labels come from each image's config, read only when the template asks for them.
        const labels = new Map<string, Record<string, string>>();
        if (flags.format?.includes("Label")) {
          for (const r of rows) {
            if (labels.has(r.image.id)) continue;
            const config = parseImageConfig(await ctx.store.content.readAll(Digest.parse(r.image.id)));
            labels.set(r.image.id, config.config?.Labels ?? {});
          }
        }
        const data = rows.map((r) => {
          const created = r.image.created ? new Date(r.image.created) : undefined;
          const imageLabels = labels.get(r.image.id) ?? {};
          return {
            Containers: "N/A",
            CreatedAt: created ? goTime(created) : "",
            CreatedSince: created ? timeAgo(created, now) : "N/A",
            Digest: r.digest,
            ID: id(r.image.id),
            Repository: r.repository,
            SharedSize: "N/A",
            Size: humanSize(r.image.size, 3),
            Tag: r.tag,
            UniqueSize: "N/A",
            VirtualSize: humanSize(r.image.size, 3),
            // Not in docker's image rows (docker has them on ps rows only): methods, so `json` leaves them out.
            Labels: goFunc(funcOf([], [STRING]), () =>
              Object.keys(imageLabels)
                .sort()
                .map((k) => `${k}=${imageLabels[k]}`)
                .join(","),
            ),
            Label: goFunc(funcOf([STRING], [STRING]), (name: string) => imageLabels[name] ?? ""),
          };
        });
        const table = flags.digests
          ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
          : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
        printRows(
          data,
          flags.format,
          table,
          {
            Repository: "REPOSITORY",
            Tag: "TAG",
            Digest: "DIGEST",
            ID: "IMAGE ID",
            CreatedSince: "CREATED",
            CreatedAt: "CREATED AT",
            Size: "SIZE",
            VirtualSize: "SIZE",
            SharedSize: "SHARED SIZE",
            UniqueSize: "UNIQUE SIZE",
            Containers: "CONTAINERS",
            Labels: "LABELS",
          },
          process.stdout,
          "*formatter.imageContext",
        );
      }),
    );
}

export function inspectCommand(): Command {
  return new Command("inspect")
    .description("Display detailed information on one or more images")
    .argument("<images...>", "IMAGE")
    .option("-f, --format <format>", "format output using a custom template")
    .action(
      withContext(async (ctx, images: string[], flags: { format?: string }) => {
        const out: Record<string, unknown>[] = [];
        const missing: string[] = [];
        for (const input of images) {
          try {
            const { imageId } = resolveLocalImage(ctx.store.db, input);
            out.push(await inspectImage(ctx.store, ctx.store.db.image(imageId)!));
          } catch (err) {
            if ((err as { code?: string }).code !== "NO_SUCH_IMAGE") throw err;
            missing.push(input);
          }
        }
        printInspect(out, flags.format);
        if (missing.length > 0) {
          for (const m of missing) process.stderr.write(`Error: No such image: ${m}\n`);
          process.exitCode = 1;
        }
      }),
    );
}

interface HistoryFlags {
  human: boolean;
  quiet?: boolean;
  trunc: boolean;
  format?: string;
}

export function historyCommand(name = "history"): Command {
  return new Command(name)
    .description("Show the history of an image")
    .argument("<image>", "IMAGE")
    .option("-H, --human [bool]", "print sizes and dates in human readable format", parseBoolFlag, true)
    .option("-q, --quiet", "only show image IDs")
    .option("--no-trunc", "don't truncate output")
    .option("--format <format>", "format output using a custom template")
    .action(
      withContext(async (ctx, input: string, flags: HistoryFlags) => {
        const { imageId } = resolveLocalImage(ctx.store.db, input);
        const rows = await imageHistory(ctx.store, imageId);
        const id = (full: string) => (full === "<missing>" || !flags.trunc ? full : truncateId(full));
        if (flags.quiet) {
          for (const r of rows) process.stdout.write(`${id(r.ID)}\n`);
          return;
        }
        const now = Date.now();
        const data = rows.map((r) => {
          const created = r.Created ? new Date(r.Created) : undefined;
          let createdBy = r.CreatedBy.replace(/\t/g, " ");
          if (flags.trunc) createdBy = ellipsisText(createdBy, 45);
          return {
            ID: id(r.ID),
            CreatedSince: created
              ? flags.human
                ? timeAgo(created, now)
                : created.toISOString().replace(/\.\d{3}Z$/, "Z")
              : "N/A",
            CreatedAt: created ? goTime(created) : "N/A",
            CreatedBy: createdBy,
            Size: flags.human ? humanSize(r.Size, 3) : String(r.Size),
            Comment: r.Comment,
          };
        });
        printRows(
          data,
          flags.format,
          "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
          {
            ID: "IMAGE",
            CreatedSince: "CREATED",
            CreatedAt: "CREATED AT",
            CreatedBy: "CREATED BY",
            Size: "SIZE",
            Comment: "COMMENT",
          },
          process.stdout,
          "*image.historyContext",
        );
      }),
    );
}

/** Go's time.Time String(): "2023-11-14 22:13:20 +0000 UTC". */
function goTime(d: Date): string {
  return `${d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "")} +0000 UTC`;
}

function ellipsisText(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * A boolean flag's value as Go's strconv.ParseBool reads it: `-H=false`, `--human=0`, `-H`
 * alone for true. Commander leaves the "=" of a short flag on the value.
 */
function parseBoolFlag(value: string): boolean {
  const v = value.replace(/^=/, "");
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  throw new CommanderInvalidArgument(
    `invalid argument "${v}" for "-H, --human" flag: strconv.ParseBool: parsing "${v}": invalid syntax`,
  );
}
