import { UsageError } from "../errors.js";
import { logTimeMs, readLog } from "../runtime/logs.js";
import { observe } from "../runtime/observe.js";
import { Command } from "./commander.js";
import { containersOf, reportDaemonError } from "./container-context.js";
import { withContext } from "./context.js";

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
}

/** `--since`/`--until`: an RFC 3339 time, a Unix timestamp, or a duration before now (`10m`, `1h30m`, `42s`). */
export function parseTimeFlag(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const dur = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(value);
  if (dur && value !== "") {
    const [, h, m, s, ms] = dur;
    return now - ((Number(h ?? 0) * 60 + Number(m ?? 0)) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0));
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`invalid value for "since"/"until": ${value}`);
  return t;
}

export function logsCommand(): Command {
  return new Command("logs")
    .description("Fetch the logs of a container")
    .argument("<container>", "CONTAINER")
    .option("-f, --follow", "follow log output")
    .option("-n, --tail <lines>", 'number of lines to show from the end of the logs ("all")', "all")
    .option("-t, --timestamps", "show timestamps")
    .option("--since <time>", "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)")
    .option("--until <time>", "show logs before a timestamp or relative")
    .action(
      withContext(async (ctx, input: string, flags: LogsFlags) => {
        const containers = containersOf(ctx);
        let rec: ReturnType<typeof containers.find>;
        try {
          rec = containers.find(input);
        } catch (err) {
          process.exitCode = reportDaemonError(err);
          return;
        }
        const tail = flags.tail === undefined || flags.tail === "all" ? -1 : Number(flags.tail);
        if (Number.isNaN(tail)) throw new UsageError(`invalid value for "tail": ${flags.tail}`);
        const since = flags.since ? parseTimeFlag(flags.since) : undefined;
        const until = flags.until ? parseTimeFlag(flags.until) : undefined;
        const paths = containers.paths(rec.id);
        const print = (e: { time: string; stream: string; text: string }) => {
          const ms = logTimeMs(e.time);
          if (since !== undefined && ms < since) return;
          if (until !== undefined && ms > until) return;
          const out = e.stream === "stdout" ? process.stdout : process.stderr;
          out.write(flags.timestamps ? `${e.time.replace(/\+00:00$/, "Z")} ${e.text}` : e.text);
        };
        // --tail: the last N lines of what is there now, then (with -f) everything new.
        const entries: Parameters<typeof print>[0][] = [];
        const end = await readLog(paths.log, (e) => entries.push(e));
        for (const e of tail >= 0 ? entries.slice(Math.max(0, entries.length - tail)) : entries) print(e);
        if (!flags.follow) return;
        const stopped = () => {
          const now = containers.db.get(rec.id);
          if (!now) return true;
          const s = observe(now, paths).state;
          return s !== "running" && s !== "restarting";
        };
        if (!stopped()) await readLog(paths.log, print, { offset: end, follow: true, stopped });
      }),
    );
}
