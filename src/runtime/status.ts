import type { ContainerView } from "./observe.js";
import { formatPorts } from "./ports.js";

/** Docker's STATUS column: `Up 3 minutes`, `Exited (137) 5 seconds ago`, `Created`, `Restarting (1) …`. */
export function statusText(c: ContainerView, now: number, humanDuration: (ms: number) => string): string {
  const o = c.observed;
  switch (o.state) {
    case "created":
      return "Created";
    case "running":
      return `Up ${humanDuration(now - Date.parse(c.startedAt ?? c.created))}`;
    case "restarting":
      return `Restarting (${o.exitCode}) ${humanDuration(now - Date.parse(o.finishedAt ?? c.created))} ago`;
    case "dead":
      return "Dead";
    default:
      return o.finishedAt
        ? `Exited (${o.exitCode}) ${humanDuration(now - Date.parse(o.finishedAt))} ago`
        : `Exited (${o.exitCode})`;
  }
}

/** The PORTS column: published bindings, then exposed ports nobody published (`8080/tcp`). */
export function portsText(c: ContainerView): string {
  const running = c.observed.state === "running";
  const published = running ? c.settings.ports : [];
  const shown = new Set(published.map((p) => `${p.containerPort}/${p.proto}`));
  const exposed = c.settings.exposedPorts.filter((p) => !shown.has(p));
  return [formatPorts(published), ...exposed].filter(Boolean).join(", ");
}

/** The COMMAND column's text before quoting: the path and its arguments. */
export function commandText(c: ContainerView): string {
  const args = c.settings.init ? c.settings.args : c.settings.args;
  return args.join(" ");
}
