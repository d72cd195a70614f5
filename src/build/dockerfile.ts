import {
  type Arg as AstArg,
  type Flag as AstFlag,
  type Heredoc as AstHeredoc,
  type Instruction as AstInstruction,
  type Property as AstProperty,
  DockerfileParser,
} from "dockerfile-ast";
import { parseGoDuration } from "./durations.js";
import { DockerfileSyntaxError } from "./errors.js";
import type {
  ArgInstruction,
  CommandLine,
  Dockerfile,
  FromInstruction,
  Healthcheck,
  Heredoc,
  Instruction,
  KeyValue,
  Location,
  Stage,
} from "./instructions.js";

/** The instructions Docker knows; anything else is "unknown instruction". */
const KNOWN = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/** Flags each instruction takes (BuildKit's instructions/parse.go); others are refused. */
const FLAGS: Record<string, Record<string, "string" | "bool">> = {
  FROM: { platform: "string" },
  RUN: { network: "string" },
  COPY: { from: "string", chown: "string", chmod: "string", link: "bool" },
  ADD: { chown: "string", chmod: "string", link: "bool", checksum: "string" },
  HEALTHCHECK: {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  },
};

/** BuildKit knows these flags; Berth does not implement them yet, and says so. */
const UNSUPPORTED_FLAGS: Record<string, string[]> = {
  RUN: ["mount", "security", "device"],
  COPY: ["exclude", "parents"],
  ADD: ["exclude", "keep-git-dir", "unpack"],
};

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/**
 * Parses a Dockerfile with dockerfile-ast (directives, continuations, comments, flags,
 * heredocs) into Berth's instruction model, checking what BuildKit's parser checks: known
 * instructions, argument counts, flags, JSON forms, stage names. Errors name `file:line`.
 */
export function parseDockerfile(text: string, file = "Dockerfile"): Dockerfile {
  const ast = DockerfileParser.parse(text);
  const escapeChar = ast.getEscapeCharacter();
  const syntax = ast
    .getDirectives()
    .find((d) => d.getName().toLowerCase() === "syntax")
    ?.getValue();
  const lines = text.split(/\r?\n/);
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const names = new Set<string>();
  for (const node of ast.getInstructions()) {
    const loc = locationOf(node, file);
    const parsed = parseInstruction(node, loc, lines);
    if (parsed.kind === "FROM") {
      if (parsed.stageName !== undefined) {
        if (names.has(parsed.stageName))
          throw new DockerfileSyntaxError(`duplicate stage name ${JSON.stringify(parsed.stageName)}`, loc);
        names.add(parsed.stageName);
      }
      stages.push({ index: stages.length, name: parsed.stageName, from: parsed, instructions: [] });
    } else if (stages.length === 0) {
      if (parsed.kind !== "ARG") throw new DockerfileSyntaxError("no build stage in current context", loc);
      globalArgs.push(parsed);
    } else {
      stages[stages.length - 1]!.instructions.push(parsed);
    }
  }
  if (stages.length === 0) {
    const loc: Location = { file, line: 1, endLine: 1 };
    throw new DockerfileSyntaxError(
      "the Dockerfile has no FROM instruction (file with no instructions?)",
      loc,
    );
  }
  return { file, escape: escapeChar, ...(syntax ? { syntax } : {}), globalArgs, stages, text };
}

/**
 * One trigger of an ONBUILD (from a base image's config or a parent stage), parsed as the one
 * instruction of a Dockerfile, located at the FROM line that runs it.
 */
export function parseTrigger(expression: string, at: Location): Instruction {
  const ast = DockerfileParser.parse(expression);
  const nodes = ast.getInstructions();
  if (nodes.length !== 1)
    throw new DockerfileSyntaxError("onbuild trigger should be a single expression", at);
  const parsed = parseInstruction(nodes[0]!, at, expression.split(/\r?\n/));
  if (parsed.kind === "FROM") throw new DockerfileSyntaxError("FROM isn't allowed as an ONBUILD trigger", at);
  return parsed;
}

function locationOf(node: AstInstruction, file: string): Location {
  const range = node.getRange();
  return { file, line: range.start.line + 1, endLine: range.end.line + 1 };
}

type Flags = Map<string, string | true>;

function parseInstruction(
  node: AstInstruction,
  loc: Location,
  lines: string[],
): Instruction | FromInstruction {
  const written = node.getInstruction();
  const keyword = written.toUpperCase();
  const fail = (message: string): never => {
    throw new DockerfileSyntaxError(`dockerfile parse error on line ${loc.line}: ${message}`, loc);
  };
  if (!KNOWN.has(keyword)) fail(`unknown instruction: ${written}`);
  const flags = readFlags(node, keyword, fail);
  const heredocs = heredocsOf(node, lines);
  const fullContent = node.getArgumentsContent() ?? "";
  // With heredocs, the command is the first line; the bodies follow it.
  const content = heredocs.length > 0 ? fullContent.split("\n")[0]! : fullContent;
  const flagText = rawFlags(node);
  const original = [written, ...flagText, content].filter((s) => s !== "").join(" ");
  const base = { loc, original };
  const str = (name: string): string | undefined => {
    const v = flags.get(name);
    return typeof v === "string" ? v : undefined;
  };

  switch (keyword) {
    case "FROM": {
      const args = words(content);
      let stageName: string | undefined;
      if (args.length === 3 && args[1]!.toLowerCase() === "as") {
        stageName = args[2]!.toLowerCase();
        if (!STAGE_NAME.test(stageName))
          fail(
            `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
          );
      } else if (args.length !== 1) {
        fail("FROM requires either one or three arguments");
      }
      return {
        kind: "FROM",
        ...base,
        image: args[0]!,
        ...(stageName ? { stageName } : {}),
        ...(str("platform") !== undefined ? { platform: str("platform") } : {}),
      };
    }
    case "RUN": {
      if (content.trim() === "") fail("RUN requires at least one argument");
      const network = str("network");
      return {
        kind: "RUN",
        ...base,
        command: commandLine(content, heredocs.length > 0),
        heredocs,
        ...(network !== undefined ? { network } : {}),
      };
    }
    case "CMD":
    case "ENTRYPOINT":
      return { kind: keyword, ...base, command: commandLine(content, false) };
    case "SHELL": {
      const json = jsonArray(content);
      if (!json) return fail("SHELL requires the arguments to be in JSON form");
      if (json.length === 0) fail("SHELL requires at least one argument");
      return { kind: "SHELL", ...base, shell: json };
    }
    case "COPY":
    case "ADD": {
      const list = jsonArray(content) ?? words(content);
      if (list.length < 2)
        fail(
          `${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
        );
      const dest = list[list.length - 1]!;
      if (heredocName(dest) !== undefined) fail(`${keyword} cannot accept a heredoc as a destination`);
      const sources: string[] = [];
      const inline: Heredoc[] = [];
      for (const src of list.slice(0, -1)) {
        const name = heredocName(src);
        if (name === undefined) {
          sources.push(src);
          continue;
        }
        const doc = heredocs.find((h) => h.name === name);
        if (!doc) fail(`${keyword}: the here-document ${name} has no body`);
        inline.push(doc!);
      }
      const link = flags.get("link");
      return {
        kind: keyword,
        ...base,
        sources,
        heredocs: inline,
        dest,
        ...(str("from") !== undefined ? { from: str("from") } : {}),
        ...(str("chown") !== undefined ? { chown: str("chown") } : {}),
        ...(str("chmod") !== undefined ? { chmod: str("chmod") } : {}),
        ...(str("checksum") !== undefined ? { checksum: str("checksum") } : {}),
        link: link === true || link === "true",
      };
    }
    case "ENV":
    case "LABEL": {
      const props = (node as unknown as { getProperties(): AstProperty[] }).getProperties();
      if (props.length === 0) fail(`${keyword} requires at least one argument`);
      const pairs = props.map((p) => {
        const value = p.getUnescapedValue();
        if (value === null) fail(`${keyword} must have two arguments`);
        if (p.getName() === "") fail(`${keyword} names can not be blank`);
        return { key: p.getName(), value: value! };
      });
      return { kind: keyword, ...base, pairs };
    }
    case "ARG": {
      const props = (node as AstArg).getProperties();
      if (props.length === 0) fail("ARG requires at least one argument");
      const args: KeyValue[] = props.map((p) => {
        if (p.getName() === "") fail("ARG names can not be blank");
        const value = p.getUnescapedValue();
        return value === null ? { key: p.getName() } : { key: p.getName(), value };
      });
      return { kind: "ARG", ...base, args };
    }
    case "WORKDIR":
    case "USER":
    case "STOPSIGNAL":
    case "MAINTAINER": {
      if (content.trim() === "") fail(`${keyword} requires exactly one argument`);
      return { kind: keyword, ...base, value: content.trim() };
    }
    case "EXPOSE": {
      if (content.trim() === "") fail("EXPOSE requires at least one argument");
      return { kind: "EXPOSE", ...base, value: content.trim() };
    }
    case "VOLUME": {
      const volumes = jsonArray(content) ?? words(content);
      if (volumes.length === 0) fail("VOLUME requires at least one argument");
      for (const v of volumes) if (v.trim() === "") fail("VOLUME specified can not be an empty string");
      return { kind: "VOLUME", ...base, volumes };
    }
    case "HEALTHCHECK":
      return { kind: "HEALTHCHECK", ...base, check: healthcheck(content, flags, fail) };
    case "ONBUILD": {
      const trigger = content.trim();
      if (trigger === "") fail("ONBUILD requires at least one argument");
      const first = trigger.split(/\s+/)[0]!.toUpperCase();
      if (first === "ONBUILD") fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (first === "MAINTAINER" || first === "FROM") fail(`${first} isn't allowed as an ONBUILD trigger`);
      const expression = [trigger, ...heredocs.map((h) => `${h.content}${h.name}`)].join("\n");
      return { kind: "ONBUILD", ...base, expression };
    }
  }
  return fail(`unknown instruction: ${written}`);
}

function readFlags(node: AstInstruction, keyword: string, fail: (m: string) => never): Flags {
  const out: Flags = new Map();
  const getFlags = (node as unknown as { getFlags?: () => AstFlag[] }).getFlags;
  if (!getFlags) return out;
  const allowed = FLAGS[keyword] ?? {};
  for (const flag of getFlags.call(node)) {
    const name = flag.getName();
    if (UNSUPPORTED_FLAGS[keyword]?.includes(name))
      fail(`${keyword} --${name} is not supported by Berth's builder yet`);
    const type = allowed[name];
    if (!type) fail(`unknown flag: ${name}`);
    const value = flag.getValue();
    if (type === "bool") {
      if (value !== null && value !== "true" && value !== "false")
        fail(`expecting boolean value for flag ${name}, not: ${value}`);
      out.set(name, value === null ? true : value);
    } else {
      if (value === null) fail(`missing a value on flag: ${name}`);
      out.set(name, value!);
    }
  }
  return out;
}

function rawFlags(node: AstInstruction): string[] {
  const getFlags = (node as unknown as { getFlags?: () => AstFlag[] }).getFlags;
  return getFlags ? getFlags.call(node).map((f) => f.toString()) : [];
}

function heredocsOf(node: AstInstruction, lines: string[]): Heredoc[] {
  const getHeredocs = (node as unknown as { getHeredocs?: () => AstHeredoc[] }).getHeredocs;
  if (!getHeredocs) return [];
  const out: Heredoc[] = [];
  for (const h of getHeredocs.call(node)) {
    const start = h.getStartRange();
    const opener = lines[start.start.line]?.slice(start.start.character, start.end.character) ?? "";
    const chomp = opener.startsWith("<<-");
    const quoted = /^<<-?\s*["']/.test(opener);
    const body = h.getContentRange();
    const end = h.getDelimiterRange();
    if (!end) continue; // unterminated: dockerfile-ast keeps it; the command line still shows `<<NAME`
    let content = "";
    if (body) for (let l = body.start.line; l < end.start.line; l++) content += `${lines[l] ?? ""}\n`;
    if (chomp) content = content.replace(/^\t+/gm, "");
    out.push({ name: h.getName(), content, expand: !quoted });
  }
  return out;
}

/** `<<EOF`, `<<-EOF`, `<<"EOF"` as one word: the heredoc's name. */
function heredocName(word: string): string | undefined {
  const m = /^<<-?(["']?)([A-Za-z0-9_.-]+)\1$/.exec(word);
  return m ? m[2] : undefined;
}

function words(content: string): string[] {
  return content.split(/\s+/).filter((w) => w !== "");
}

/** The exec (JSON) form when the text is a JSON array of strings, as Docker decides. */
function jsonArray(content: string): string[] | undefined {
  const t = content.trim();
  if (!t.startsWith("[")) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  } catch {
    // not JSON: shell form
  }
  return undefined;
}

function commandLine(content: string, hasHeredocs: boolean): CommandLine {
  const json = hasHeredocs ? undefined : jsonArray(content);
  return json ? { form: "exec", args: json } : { form: "shell", text: content };
}

function healthcheck(content: string, flags: Flags, fail: (m: string) => never): Healthcheck | undefined {
  const t = content.trim();
  if (t === "") fail("HEALTHCHECK requires at least one argument");
  const [typWord, ...restWords] = t.split(/\s+/);
  const typ = typWord!.toUpperCase();
  if (typ === "NONE") {
    if (restWords.length > 0) fail("HEALTHCHECK NONE takes no arguments");
    return undefined;
  }
  if (typ !== "CMD") fail(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const rest = t.slice(typWord!.length).trim();
  const json = jsonArray(rest);
  let test: string[];
  if (json) {
    if (json.length === 0) fail("Missing command after HEALTHCHECK CMD");
    test = ["CMD", ...json];
  } else {
    if (rest === "") fail("Missing command after HEALTHCHECK CMD");
    test = ["CMD-SHELL", rest];
  }
  const duration = (name: string): number => {
    const v = flags.get(name);
    if (typeof v !== "string" || v === "") return 0;
    const ns = parseGoDuration(v);
    if (ns === undefined) fail(`time: invalid duration ${JSON.stringify(v)}`);
    if (ns! === 0) return 0;
    if (ns! < 1_000_000) fail(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return ns!;
  };
  let retries = 0;
  const r = flags.get("retries");
  if (typeof r === "string" && r !== "") {
    if (!/^-?\d+$/.test(r)) fail(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    retries = Number(r);
    if (retries < 0) fail(`--retries cannot be negative (${retries})`);
  }
  return {
    test,
    interval: duration("interval"),
    timeout: duration("timeout"),
    startPeriod: duration("start-period"),
    startInterval: duration("start-interval"),
    retries,
  };
}
