/**
 * `inspect --format`, as docker's TemplateInspector (cli/command/inspect/inspector.go) does it:
 * the template runs on each object as Docker's typed struct; when that fails, once more on the
 * object decoded as raw JSON (maps, so a key an object lacks is "map has no entry for key")
 * with missingkey=error, and that run's error is the one reported. An empty format prints the
 * objects as indented JSON, "json" as compact JSON.
 *
 * Berth's inspect objects are JSON-shaped. For the typed run, an object whose keys are all
 * exported Go names (start with an upper-case letter) stands for a struct and any other object
 * for a map, which is how Docker's types are laid out (Config, State, HostConfig are structs;
 * Labels, ExposedPorts, Volumes, Networks are maps).
 */
import { TemplateError } from "../../gotemplate/errors.js";
import type { Template } from "../../gotemplate/template.js";
import { ANY, mapOf, STRING, sliceOf } from "../../gotemplate/types.js";
import { goStruct, typed } from "../../gotemplate/values.js";
import { FormatError } from "./errors.js";
import { parseDockerTemplate } from "./functions.js";
import { goJson } from "./json.js";

export interface InspectResult {
  /** What to print on stdout. */
  out: string;
  /** One line per object the template failed on, docker's wording; print them on stderr and exit 1. */
  errors: string[];
}

/** Renders objects for `inspect --format`; throws FormatError (exit 64) when the template does not parse. */
export function renderInspect(values: readonly unknown[], format: string | undefined): InspectResult {
  if (!format) {
    if (values.length === 0) return { out: "[]\n", errors: [] };
    return { out: `${goJson(values, { indent: "    ", plainObjects: "struct" })}\n`, errors: [] };
  }
  if (format === "json") return { out: `${goJson(values, { plainObjects: "struct" })}\n`, errors: [] };
  let template: Template;
  try {
    template = parseDockerTemplate(format);
  } catch (e) {
    if (e instanceof TemplateError)
      throw new FormatError(`template parsing error: ${e.message}`, 64, { cause: e });
    throw e;
  }
  let out = "";
  const errors: string[] = [];
  for (const value of values) {
    try {
      out += `${template.execute(typedView(value, true))}\n`;
      continue;
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
    }
    const raw = template.clone().option("missingkey=error");
    try {
      out += `${raw.execute(rawView(value))}\n`;
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      errors.push(`template parsing error: ${e.message}`);
    }
  }
  return { out: out === "" ? "\n" : out, errors };
}

const EXPORTED = /^[A-Z]/;

// A null in Docker's JSON is a nil map, a nil slice or a nil pointer of Docker's types; these
// fields are the maps and slices ({{.Config.Entrypoint}} prints "[]", {{.Config.Volumes}} "map[]").
const MAP_FIELDS = new Set([
  "Annotations",
  "Data",
  "DriverOpts",
  "ExposedPorts",
  "Labels",
  "Networks",
  "Options",
  "PortBindings",
  "Ports",
  "StorageOpt",
  "Sysctls",
  "Tmpfs",
  "Volumes",
]);
const SLICE_FIELDS = new Set([
  "Aliases",
  "Args",
  "Binds",
  "CapAdd",
  "CapDrop",
  "Cmd",
  "DNSNames",
  "DeviceCgroupRules",
  "DeviceRequests",
  "Devices",
  "Dns",
  "DnsOptions",
  "DnsSearch",
  "Entrypoint",
  "Env",
  "ExecIDs",
  "ExtraHosts",
  "GroupAdd",
  "Layers",
  "Links",
  "Mounts",
  "OnBuild",
  "RepoDigests",
  "RepoTags",
  "SecondaryIPAddresses",
  "SecondaryIPv6Addresses",
  "SecurityOpt",
  "Shell",
  "Test",
  "VolumesFrom",
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A copy in which struct-shaped objects are Go structs and the rest stay maps. */
function typedView(v: unknown, root = false, key = ""): unknown {
  if (v === null) {
    if (MAP_FIELDS.has(key)) return typed(mapOf(STRING, ANY), null);
    if (SLICE_FIELDS.has(key)) return typed(sliceOf(ANY), null);
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => typedView(x));
  if (!isPlainObject(v)) return v;
  const keys = Object.keys(v);
  const copy: Record<string, unknown> = {};
  for (const k of keys) copy[k] = typedView(v[k], false, k);
  const structLike = keys.length > 0 && keys.every((k) => EXPORTED.test(k));
  return root || structLike ? goStruct(copy) : copy;
}

/** The object as json.Decoder into interface{} would give it: maps, and null as nothing. */
function rawView(v: unknown): unknown {
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map(rawView);
  if (!isPlainObject(v)) return v;
  const copy: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) copy[k] = rawView(x);
  return copy;
}
