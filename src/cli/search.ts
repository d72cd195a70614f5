import { InvalidArgumentError } from "../errors.js";
import { DEFAULT_REGISTRY } from "../oci/reference.js";
import { searchRegistry } from "../remote/search.js";
import { Command } from "./commander.js";
import { withContext } from "./context.js";
import { ellipsis } from "./format/units.js";
import { printRows } from "./output.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface SearchFlags {
  limit: string;
  filter?: string[];
  trunc: boolean;
  format?: string;
}

/** Splits "[registry/]term" as docker search does: a first component with "." or ":" (or localhost) is a registry. */
function splitTerm(input: string): { registry: string; term: string } {
  const slash = input.indexOf("/");
  if (slash > 0) {
    const first = input.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      return { registry: first, term: input.slice(slash + 1) };
    }
  }
  return { registry: DEFAULT_REGISTRY, term: input };
}

export function searchCommand(): Command {
  return new Command("search")
    .description("Search registries for images")
    .argument("<term>", "[REGISTRY/]TERM")
    .option("--limit <n>", "max number of search results", "25")
    .option("-f, --filter <filter>", "filter output based on conditions provided", collect)
    .option("--no-trunc", "don't truncate output")
    .option("--format <format>", "pretty-print search using a Go template")
    .action(
      withContext(async (ctx, input: string, flags: SearchFlags) => {
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
          throw new InvalidArgumentError(`limit ${flags.limit} is outside the range of [1, 100]`);
        }
        let official: boolean | undefined;
        let stars = 0;
        for (const f of flags.filter ?? []) {
          const [key, value = ""] = f.split("=", 2);
          if (key === "is-official") official = value === "true" || value === "1";
          else if (key === "stars") {
            stars = Number(value);
            if (!Number.isInteger(stars)) throw new InvalidArgumentError(`invalid filter 'stars=${value}'`);
          } else if (key === "is-automated") {
            // accepted and ignored, as docker does since automated builds were retired
          } else throw new InvalidArgumentError(`invalid filter '${key}'`);
        }
        const { registry, term } = splitTerm(input);
        const results = (await searchRegistry(await ctx.registryClient(registry), term, limit)).filter(
          (r) => r.star_count >= stars && (official === undefined || r.is_official === official),
        );
        const rows = results.map((r) => ({
          Name: r.name,
          Description: flags.trunc ? ellipsis(r.description.replace(/\n/g, " "), 45) : r.description,
          StarCount: String(r.star_count),
          IsOfficial: r.is_official ? "[OK]" : "",
          IsAutomated: r.is_automated ? "[OK]" : "",
        }));
        printRows(
          rows,
          flags.format,
          "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
          {
            Name: "NAME",
            Description: "DESCRIPTION",
            StarCount: "STARS",
            IsOfficial: "OFFICIAL",
            IsAutomated: "AUTOMATED",
          },
          process.stdout,
          "*registry.searchContext",
        );
      }),
    );
}
