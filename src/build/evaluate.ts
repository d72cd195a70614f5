import { posix } from "node:path";
import type { ContainerConfig, HistoryEntry, ImageConfig } from "../oci/manifest.js";
import { expandAt, PROXY_ARGS } from "./args.js";
import { BuildError } from "./errors.js";
import { type EnvLookup, ExpansionError, processWord, processWords } from "./expand.js";
import { goList, goQuotedList, HISTORY_COMMENT, healthcheckText, runCommandText } from "./history.js";
import type { CommandLine, CopyInstruction, Instruction, Location, RunInstruction } from "./instructions.js";
import { parseSignal } from "./signals.js";

/**
 * Evaluation of a stage's instructions, with no I/O: variable expansion, ARG and ENV scoping,
 * the image config each instruction leaves, its history entry, and for the instructions that
 * change files (RUN, COPY, ADD, WORKDIR) a fully resolved step for the executor to run or take
 * from the cache.
 */

export const DEFAULT_SHELL = ["/bin/sh", "-c"];
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface RunStep {
  kind: "run";
  args: string[];
  /** The process environment: the image's Env, then ARG and ENV values (no proxies). */
  env: string[];
  /** Proxy variables from --build-arg: passed to the process, not part of the cache key. */
  proxyEnv: string[];
  user: string;
  workdir: string;
  network: string;
}

export interface CopyStep {
  kind: "copy";
  add: boolean;
  /** Sources as expanded, relative to the context (or the --from stage's root). */
  sources: string[];
  /** Inline files, named as their heredoc. */
  inline: { name: string; content: string }[];
  /** Absolute; a trailing "/" (or several sources) means a directory. */
  dest: string;
  from?: string;
  chown?: string;
  chmod?: number;
  link: boolean;
  checksum?: string;
}

export interface WorkdirStep {
  kind: "workdir";
  path: string;
  /** Directories it creates belong to the stage's USER. */
  user: string;
}

export type StepAction = RunStep | CopyStep | WorkdirStep;

export interface Step {
  action: StepAction;
  /** The history entry's `created_by`. */
  createdBy: string;
  /** BuildKit's step name for progress: `COPY hello.txt ./` (variables expanded). */
  name: string;
  loc: Location;
}

/** What a stage starts from: an image config, and the variables and ARGs a parent stage had. */
export interface StageBase {
  config: ImageConfig;
  /** Variables instructions see (the config's Env plus a parent stage's ARG values). */
  env: Map<string, string>;
  /** ARGs declared by a parent stage. */
  args: { key: string; value: string | undefined }[];
}

export interface EvaluatorOptions {
  escape: string;
  buildArgs: Map<string, string>;
  /** The global scope (predefined and pre-FROM ARGs), for `ARG NAME` redeclarations. */
  globals: Map<string, string>;
  /** `--network` of the build: RUN's default. */
  network: string;
}

export function baseFromImage(config: ImageConfig): StageBase {
  const copy = structuredClone(config);
  const env = new Map<string, string>();
  for (const e of copy.config?.Env ?? []) {
    const eq = e.indexOf("=");
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? "" : e.slice(eq + 1));
  }
  return { config: copy, env, args: [] };
}

/** A stage's instructions applied one at a time to its config. */
export class StageEvaluator {
  readonly config: ImageConfig;
  readonly env: Map<string, string>;
  readonly args: { key: string; value: string | undefined }[];
  /** History entries this stage added (the base image's come first in config.history). */
  private cmdSet = false;
  /** Build args some ARG of this stage consumed. */
  readonly consumed = new Set<string>();

  constructor(
    base: StageBase,
    private readonly opts: EvaluatorOptions,
  ) {
    this.config = structuredClone(base.config);
    this.config.config ??= {};
    this.config.history ??= [];
    this.env = new Map(base.env);
    this.args = base.args.map((a) => ({ ...a }));
  }

  get containerConfig(): ContainerConfig {
    return this.config.config!;
  }

  private lookup: EnvLookup = (name) => this.env.get(name);

  private expand(word: string, loc: Location): string {
    return expandAt(word, this.lookup, this.opts.escape, loc);
  }

  private addHistory(createdBy: string): void {
    this.config.history!.push({ created_by: createdBy, comment: HISTORY_COMMENT, empty_layer: true });
  }

  /** The entry of a step that made a layer, once the executor has it (with the layer's time). */
  layerHistory(step: Step, created: string | undefined): HistoryEntry {
    const entry: HistoryEntry = { created_by: step.createdBy, comment: HISTORY_COMMENT };
    if (created !== undefined) entry.created = created;
    this.config.history!.push(entry);
    return entry;
  }

  /** The step name BuildKit shows: the instruction with the variables it can see expanded. */
  private stepName(original: string, raw: boolean): string {
    let text: string;
    try {
      text = processWord(original, this.lookup, {
        escape: this.opts.escape,
        rawQuotes: raw,
        skipUnset: raw,
      });
    } catch (err) {
      if (!(err instanceof ExpansionError)) throw err;
      text = original;
    }
    const sp = text.indexOf(" ");
    return sp < 0 ? text.toUpperCase() : `${text.slice(0, sp).toUpperCase()}${text.slice(sp)}`;
  }

  private withShell(text: string): string[] {
    const shell = this.containerConfig.Shell?.length ? this.containerConfig.Shell : DEFAULT_SHELL;
    return [...shell, text];
  }

  private commandArgs(command: CommandLine): string[] {
    return command.form === "exec" ? [...command.args] : this.withShell(command.text);
  }

  /** Applies one instruction; returns the step to execute for those that change files. */
  apply(ins: Instruction): Step | undefined {
    const c = this.containerConfig;
    switch (ins.kind) {
      case "ENV": {
        const pairs = ins.pairs.map(
          (p) => [this.expand(p.key, ins.loc), this.expand(p.value, ins.loc)] as const,
        );
        for (const [k, v] of pairs) {
          this.env.delete(k);
          this.env.set(k, v);
          c.Env = setEnv(c.Env ?? [], k, v);
        }
        this.addHistory(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`);
        return undefined;
      }
      case "ARG": {
        const texts: string[] = [];
        for (const a of ins.args) {
          let value: string | undefined;
          const given = this.opts.buildArgs.get(a.key);
          if (given !== undefined) {
            value = given;
            this.consumed.add(a.key);
          } else if (a.value !== undefined) {
            value = this.expand(a.value, ins.loc);
          } else {
            const global = this.opts.globals.get(a.key);
            if (global !== undefined && global !== "") value = global;
          }
          if (value !== undefined) {
            this.env.delete(a.key);
            this.env.set(a.key, value);
          }
          const existing = this.args.findIndex((x) => x.key === a.key);
          if (existing >= 0) this.args.splice(existing, 1);
          this.args.push({ key: a.key, value });
          texts.push(value === undefined ? a.key : `${a.key}=${value}`);
        }
        this.addHistory(`ARG ${texts.join(" ")}`);
        return undefined;
      }
      case "LABEL": {
        const pairs = ins.pairs.map(
          (p) => [this.expand(p.key, ins.loc), this.expand(p.value, ins.loc)] as const,
        );
        c.Labels ??= {};
        for (const [k, v] of pairs) c.Labels[k] = v;
        this.addHistory(`LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`);
        return undefined;
      }
      case "MAINTAINER": {
        this.config.author = ins.value;
        this.addHistory(`MAINTAINER ${ins.value}`);
        return undefined;
      }
      case "EXPOSE": {
        const raw = ins.value.split(/\s+/).sort();
        const ports: string[] = [];
        for (const word of raw) {
          let expanded: string[];
          try {
            expanded = processWords(word, this.lookup, { escape: this.opts.escape });
          } catch (err) {
            if (err instanceof ExpansionError) throw new BuildError(err.message, ins.loc);
            throw err;
          }
          for (const p of expanded) ports.push(...exposedPorts(p, ins.loc));
        }
        c.ExposedPorts ??= {};
        for (const p of ports) c.ExposedPorts[p] = {};
        this.addHistory(`EXPOSE ${goList(ports)}`);
        return undefined;
      }
      case "USER": {
        const user = this.expand(ins.value, ins.loc);
        c.User = user;
        this.addHistory(`USER ${user}`);
        return undefined;
      }
      case "VOLUME": {
        const volumes = ins.volumes.map((v) => this.expand(v, ins.loc));
        for (const v of volumes)
          if (v === "") throw new BuildError("VOLUME specified can not be an empty string", ins.loc);
        c.Volumes ??= {};
        for (const v of volumes) c.Volumes[v] = {};
        this.addHistory(`VOLUME ${goList(volumes)}`);
        return undefined;
      }
      case "STOPSIGNAL": {
        const signal = this.expand(ins.value, ins.loc);
        if (!parseSignal(signal)) throw new BuildError(`Invalid signal: ${signal}`, ins.loc);
        c.StopSignal = signal;
        this.addHistory(`STOPSIGNAL ${signal}`);
        return undefined;
      }
      case "SHELL": {
        c.Shell = [...ins.shell];
        this.addHistory(`SHELL ${goList(ins.shell)}`);
        return undefined;
      }
      case "CMD": {
        const args = this.commandArgs(ins.command);
        c.Cmd = args;
        c.ArgsEscaped = true;
        this.cmdSet = true;
        this.addHistory(`CMD ${goQuotedList(args)}`);
        return undefined;
      }
      case "ENTRYPOINT": {
        const args = this.commandArgs(ins.command);
        c.Entrypoint = args;
        if (!this.cmdSet) c.Cmd = null;
        this.addHistory(`ENTRYPOINT ${goQuotedList(args)}`);
        return undefined;
      }
      case "HEALTHCHECK": {
        const h = ins.check;
        c.Healthcheck = h
          ? {
              Test: h.test,
              ...(h.interval ? { Interval: h.interval } : {}),
              ...(h.timeout ? { Timeout: h.timeout } : {}),
              ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}),
              ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
              ...(h.retries ? { Retries: h.retries } : {}),
            }
          : { Test: ["NONE"] };
        this.addHistory(`HEALTHCHECK ${healthcheckText(h)}`);
        return undefined;
      }
      case "ONBUILD": {
        c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
        return undefined;
      }
      case "WORKDIR": {
        const wd = normalizeWorkdir(c.WorkingDir ?? "", this.expand(ins.value, ins.loc));
        c.WorkingDir = wd;
        if (wd === "/") {
          this.addHistory("WORKDIR /");
          return undefined;
        }
        return {
          action: { kind: "workdir", path: wd, user: c.User ?? "" },
          createdBy: `WORKDIR ${wd}`,
          name: this.stepName(ins.original, false),
          loc: ins.loc,
        };
      }
      case "RUN":
        return this.run(ins);
      case "COPY":
      case "ADD":
        return this.copy(ins);
    }
  }

  private run(ins: RunInstruction): Step {
    let args: string[];
    if (ins.heredocs.length > 0 && ins.command.form === "shell") {
      const line = ins.command.text;
      const single = ins.heredocs.length === 1 && /^<<-?\s*(["']?)[A-Za-z0-9_.-]+\1\s*$/.test(line.trim());
      if (single) {
        // `RUN <<EOF`: the body is the script (BuildKit runs a body with a #! as a file; Berth
        // gives it to the shell as well, which reads the #! line as a comment).
        args = this.withShell(ins.heredocs[0]!.content);
      } else {
        args = this.withShell([line, ...ins.heredocs.map((h) => `${h.content}${h.name}`)].join("\n"));
      }
    } else {
      args = this.commandArgs(ins.command);
    }
    const network = ins.network ?? this.opts.network;
    if (!["default", "none", "host"].includes(network))
      throw new BuildError(
        `unsupported network mode ${JSON.stringify(network)} (default, none or host)`,
        ins.loc,
      );
    const env = [...this.env].map(([k, v]) => `${k}=${v}`);
    if (!this.env.has("PATH")) env.unshift(`PATH=${DEFAULT_PATH}`);
    const proxyEnv: string[] = [];
    for (const p of PROXY_ARGS) {
      const v = this.opts.buildArgs.get(p);
      if (v !== undefined && !this.env.has(p)) {
        proxyEnv.push(`${p}=${v}`);
        this.consumed.add(p);
      }
    }
    const c = this.containerConfig;
    return {
      action: {
        kind: "run",
        args,
        env,
        proxyEnv,
        user: c.User ?? "",
        workdir: c.WorkingDir || "/",
        network,
      },
      createdBy: `RUN ${runCommandText(args, this.args, this.lookup)} # buildkit`,
      name: this.stepName(ins.original, true),
      loc: ins.loc,
    };
  }

  private copy(ins: CopyInstruction): Step {
    if (ins.from !== undefined && /\$/.test(ins.from))
      throw new BuildError(
        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
        ins.loc,
      );
    const sources = ins.sources.map((s) => this.expand(s, ins.loc));
    const destWritten = this.expand(ins.dest, ins.loc);
    const chown = ins.chown !== undefined ? this.expand(ins.chown, ins.loc) : undefined;
    const chmodText = ins.chmod !== undefined ? this.expand(ins.chmod, ins.loc) : undefined;
    let chmod: number | undefined;
    if (chmodText !== undefined && chmodText !== "") {
      if (!/^[0-7]+$/.test(chmodText) || Number.parseInt(chmodText, 8) > 0o7777)
        throw new BuildError(
          `invalid chmod parameter: '${chmodText}'. it should be octal string and between 0 and 07777`,
          ins.loc,
        );
      chmod = Number.parseInt(chmodText, 8);
    }
    if (ins.checksum !== undefined && ins.kind !== "ADD")
      throw new BuildError("checksum can't be specified for COPY", ins.loc);
    for (const s of sources) {
      if (/^https?:\/\//.test(s) && ins.kind === "COPY")
        throw new BuildError("source can't be a URL for COPY", ins.loc);
      if (/^https?:\/\//.test(s) && ins.from !== undefined)
        throw new BuildError("source can't be a URL with --from", ins.loc);
    }
    const inline = ins.heredocs.map((h) => ({
      name: h.name,
      content: h.expand ? this.expand(h.content, ins.loc) : h.content,
    }));
    const dest = resolveDest(this.containerConfig.WorkingDir || "/", destWritten);
    let createdBy = ins.kind;
    if (chown) createdBy += ` --chown=${chown}`;
    if (chmodText) createdBy += ` --chmod=${chmodText}`;
    for (const s of sources) createdBy += ` ${s}`;
    for (const h of inline) createdBy += ` <<${h.name}`;
    createdBy += ` ${destWritten} # buildkit`;
    return {
      action: {
        kind: "copy",
        add: ins.kind === "ADD",
        sources,
        inline,
        dest,
        ...(ins.from !== undefined ? { from: ins.from } : {}),
        ...(chown ? { chown } : {}),
        ...(chmod !== undefined ? { chmod } : {}),
        link: ins.link,
        ...(ins.checksum !== undefined ? { checksum: this.expand(ins.checksum, ins.loc) } : {}),
      },
      createdBy,
      name: this.stepName(ins.original, false),
      loc: ins.loc,
    };
  }
}

/** Docker's addEnv: replace the variable where it is, or append it. */
export function setEnv(env: string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => (e.includes("=") ? e.slice(0, e.indexOf("=")) : e) === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/** WORKDIR: relative paths build on the current one; the result is clean and absolute. */
export function normalizeWorkdir(current: string, path: string): string {
  const joined = path.startsWith("/") ? path : posix.join(current || "/", path);
  const clean = posix.normalize(joined);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}

/** A COPY destination against the working directory, keeping a trailing slash (a directory). */
export function resolveDest(workdir: string, dest: string): string {
  const d = dest === "." || dest === "" ? "./" : dest;
  const joined = d.startsWith("/") ? d : posix.join(workdir, d);
  let clean = posix.normalize(joined);
  if ((d.endsWith("/") || d.endsWith("/.") || d === "./") && !clean.endsWith("/")) clean += "/";
  return clean;
}

/** EXPOSE's `80`, `80/udp`, `8000-8002/tcp` as the image config's keys. */
export function exposedPorts(spec: string, loc: Location): string[] {
  const slash = spec.lastIndexOf("/");
  let port = slash < 0 ? spec : spec.slice(0, slash);
  const proto = (slash < 0 ? "tcp" : spec.slice(slash + 1)).toLowerCase();
  // [ip:]hostPort:containerPort forms: the container port is what is exposed.
  if (port.includes(":")) port = port.slice(port.lastIndexOf(":") + 1);
  if (!["tcp", "udp", "sctp"].includes(proto))
    throw new BuildError(`invalid port: ${JSON.stringify(spec)}: invalid proto: ${proto}`, loc);
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  if (!m) throw new BuildError(`invalid containerPort: ${port}`, loc);
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (start > 65535 || end > 65535 || end < start)
    throw new BuildError(`invalid containerPort: ${port}`, loc);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}
