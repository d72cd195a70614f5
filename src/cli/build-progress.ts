import type { BuildEvent, BuildListener } from "../build/progress.js";

/**
 * BuildKit's two progress displays. Plain: one line per event, each vertex's lines grouped
 * (`#5 [2/3] RUN echo hi`, `#5 0.215 hi`, `#5 DONE 0.3s`, `#4 CACHED`), as `docker build
 * --progress=plain` prints them. TTY: a view redrawn in place, a line per vertex with its time
 * and the last lines of output under the running ones.
 */

interface VertexState {
  id: number;
  name: string;
  started: number;
  finished?: number;
  cached?: boolean;
  error?: string;
  statuses: string[];
  logs: string[];
  partial: string;
}

export function plainPrinter(out: NodeJS.WritableStream): BuildListener {
  const vertices = new Map<number, VertexState>();
  let current: number | undefined;
  const line = (id: number, text: string) => {
    if (current !== id) {
      out.write("\n");
      current = id;
      const v = vertices.get(id);
      if (v && !text.startsWith(v.name)) out.write(`#${id} ${v.name}\n`);
    }
    out.write(`#${id} ${text}\n`);
  };
  return (e: BuildEvent) => {
    switch (e.type) {
      case "start": {
        vertices.set(e.id, { id: e.id, name: e.name, started: e.at, statuses: [], logs: [], partial: "" });
        line(e.id, e.name);
        break;
      }
      case "status":
        line(e.id, e.text);
        break;
      case "log": {
        const v = vertices.get(e.id);
        if (!v) break;
        const text = v.partial + e.data.toString("utf8");
        const parts = text.split("\n");
        v.partial = parts.pop()!;
        const t = ((e.at - v.started) / 1000).toFixed(3);
        for (const p of parts) line(e.id, `${t} ${p}`);
        break;
      }
      case "cached":
        line(e.id, "CACHED");
        break;
      case "done": {
        const v = vertices.get(e.id);
        if (v?.partial) line(e.id, `${((e.at - v.started) / 1000).toFixed(3)} ${v.partial}`);
        line(e.id, `DONE ${(((e.at - (v?.started ?? e.at)) / 1000) as number).toFixed(1)}s`);
        break;
      }
      case "error": {
        const v = vertices.get(e.id);
        if (v?.partial) line(e.id, `${((e.at - v.started) / 1000).toFixed(3)} ${v.partial}`);
        line(e.id, `ERROR: ${e.message}`);
        break;
      }
      case "warning":
        out.write(`${e.message}\n`);
        break;
    }
  };
}

/** The live view; `finish()` draws the final state once more and stops the timer. */
export function ttyPrinter(out: NodeJS.WriteStream): { listener: BuildListener; finish(): void } {
  const vertices: VertexState[] = [];
  const byId = new Map<number, VertexState>();
  const warnings: string[] = [];
  const start = Date.now();
  let drawn = 0;
  const draw = () => {
    const now = Date.now();
    const width = Math.max(40, (out.columns || 100) - 1);
    const done = vertices.filter((v) => v.finished !== undefined).length;
    const lines = [`[+] Building ${((now - start) / 1000).toFixed(1)}s (${done}/${vertices.length})`];
    for (const v of vertices) {
      const time = v.cached ? "" : `${(((v.finished ?? now) - v.started) / 1000).toFixed(1)}s`;
      const label = ` => ${v.cached ? "CACHED " : ""}${v.error ? "ERROR " : ""}${v.name}`;
      lines.push(fit(label, time, width));
      if (v.finished === undefined || v.error) {
        for (const l of v.logs.slice(-6)) lines.push(fit(` => => # ${l}`, "", width));
      }
    }
    let s = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const l of lines) s += `\x1b[2K${l}\n`;
    drawn = lines.length;
    out.write(s);
  };
  const timer = setInterval(draw, 150);
  timer.unref();
  const listener: BuildListener = (e) => {
    switch (e.type) {
      case "start": {
        const v: VertexState = { id: e.id, name: e.name, started: e.at, statuses: [], logs: [], partial: "" };
        vertices.push(v);
        byId.set(e.id, v);
        break;
      }
      case "status":
        break;
      case "log": {
        const v = byId.get(e.id);
        if (!v) break;
        const text = v.partial + e.data.toString("utf8");
        const parts = text.split("\n");
        v.partial = parts.pop()!;
        v.logs.push(...parts);
        if (v.logs.length > 50) v.logs.splice(0, v.logs.length - 50);
        break;
      }
      case "cached": {
        const v = byId.get(e.id);
        if (v) {
          v.cached = true;
          v.finished = Date.now();
        }
        break;
      }
      case "done": {
        const v = byId.get(e.id);
        if (v) v.finished = e.at;
        break;
      }
      case "error": {
        const v = byId.get(e.id);
        if (v) {
          v.finished = e.at;
          v.error = e.message;
        }
        break;
      }
      case "warning":
        warnings.push(e.message);
        break;
    }
  };
  return {
    listener,
    finish() {
      clearInterval(timer);
      draw();
      for (const w of warnings) out.write(`${w}\n`);
    },
  };
}

function fit(label: string, right: string, width: number): string {
  const room = width - right.length - 1;
  const text = label.length > room ? `${label.slice(0, Math.max(0, room - 1))}…` : label;
  return right ? `${text.padEnd(room)} ${right}` : text;
}
