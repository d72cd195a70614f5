/**
 * JSON as Go's encoding/json writes it, the one encoder behind every JSON the docker CLI prints
 * (inspect, `--format json`, the templates' `json` function, manifest inspect): map keys sorted,
 * struct fields in order, `<`, `>` and `&` escaped unless asked not to, U+2028 and U+2029 escaped,
 * control characters as \u00XX, []byte as base64, Date as RFC 3339.
 *
 * Values are read with gotemplate's value model: a plain object is a map unless it was marked
 * with goStruct (or `plainObjects: "struct"` says plain objects are structs, as for data that
 * was decoded from, or is written in the order of, Docker's own structs).
 */
import { formatFloat } from "../../gotemplate/strconv.js";
import { isFloatKind, isIntKind, isUintKind } from "../../gotemplate/types.js";
import {
  elem,
  indirectInterface,
  isGoStruct,
  mapEntries,
  sliceItems,
  structFields,
  TIME,
  toValue,
  type Value,
} from "../../gotemplate/values.js";

export interface GoJsonOptions {
  /** json.Marshal escapes <, > and & for HTML; docker's template `json` function turns that off. */
  escapeHtml?: boolean;
  /** json.MarshalIndent's indent ("" for compact output). */
  indent?: string;
  /** How to read an object that was not marked as a struct: Go map (sorted keys) or struct (as written). */
  plainObjects?: "map" | "struct";
  /** Objects encoded as a map of their fields whatever the options say (docker's formatter contexts). */
  asMarshaledMap?: (obj: object) => boolean;
}

/** What encoding/json refuses: NaN and infinities, functions, channels, complex numbers, cycles. */
export class GoJsonError extends Error {
  override readonly name = "GoJsonError";
}

function jsonString(s: string, escapeHtml: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c < 0x20) {
      out +=
        ch === "\n"
          ? "\\n"
          : ch === "\r"
            ? "\\r"
            : ch === "\t"
              ? "\\t"
              : `\\u00${c.toString(16).padStart(2, "0")}`;
    } else if (escapeHtml && (ch === "<" || ch === ">" || ch === "&")) {
      out += `\\u00${c.toString(16)}`;
    } else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += ch + s[i + 1];
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd";
    else out += ch;
  }
  return `${out}"`;
}

/** A float as encoding/json writes it: 'f' format, or 'e' outside [1e-6, 1e21). */
function jsonFloat(x: number, bits: 32 | 64): string {
  if (!Number.isFinite(x)) throw new GoJsonError(`json: unsupported value: ${formatFloat(x, "g", -1)}`);
  const abs = Math.abs(x);
  if (
    abs !== 0 &&
    ((bits === 64 && (abs < 1e-6 || abs >= 1e21)) || (bits === 32 && (abs < 1e-6 || abs >= 1e21)))
  ) {
    return formatFloat(x, "e", -1).replace(/e([+-])0(\d)$/, "e$1$2");
  }
  return formatFloat(x, "f", -1);
}

/** RFC 3339 with only the fractional digits needed, as time.Time marshals. */
function timeJson(t: Date): string {
  return t
    .toISOString()
    .replace(/\.?0+Z$/, "Z")
    .replace(/\.Z$/, "Z");
}

/** A value as Go's encoding/json writes it. */
export function goJson(value: unknown, options: GoJsonOptions = {}): string {
  const indent = options.indent ?? "";
  const seen = new Set<unknown>();
  const plainAsStruct = options.plainObjects === "struct";

  const nl = (depth: number) => (indent ? `\n${indent.repeat(depth)}` : "");
  const sep = indent ? ": " : ":";

  const object = (entries: [string, string][], depth: number): string => {
    if (entries.length === 0) return "{}";
    return `{${entries.map(([k, v]) => `${nl(depth + 1)}${k}${sep}${v}`).join(",")}${nl(depth)}}`;
  };

  const array = (items: string[], depth: number): string => {
    if (items.length === 0) return "[]";
    return `[${items.map((v) => `${nl(depth + 1)}${v}`).join(",")}${nl(depth)}]`;
  };

  const encodeJs = (js: unknown, html: boolean, depth: number): string => {
    if (js !== null && typeof js === "object" && !(js instanceof Date)) {
      if (seen.has(js)) throw new GoJsonError("json: unsupported value: encountered a cycle");
      if (options.asMarshaledMap?.(js)) {
        seen.add(js);
        try {
          const v = toValue(js);
          const target = v.kind === "pointer" ? elem(v) : v;
          const fields = structFields(target)
            .filter((f) => f.value.isValid())
            .map(({ name, value }) => [name, value] as const)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          // json.Marshal inside MarshalJSON: HTML escaped, whatever the encoder around it does.
          return object(
            fields.map(([k, x]) => [jsonString(k, true), encode(x, true, depth + 1)]),
            depth,
          );
        } finally {
          seen.delete(js);
        }
      }
      if (typeof (js as { toJSON?: unknown }).toJSON === "function" && !isGoStruct(js)) {
        return encodeJs((js as { toJSON(): unknown }).toJSON(), html, depth);
      }
      if (plainAsStruct && !Array.isArray(js)) {
        const proto = Object.getPrototypeOf(js);
        if (proto === Object.prototype || proto === null) {
          seen.add(js);
          try {
            const entries = Object.entries(js).filter(([, x]) => x !== undefined);
            return object(
              entries.map(([k, x]) => [jsonString(k, html), encodeJs(x, html, depth + 1)]),
              depth,
            );
          } finally {
            seen.delete(js);
          }
        }
      }
    }
    return encode(toValue(js), html, depth);
  };

  const encode = (v: Value, html: boolean, depth: number): string => {
    v = indirectInterface(v);
    if (!v.isValid()) return "null";
    const k = v.kind;
    if (k === "bool") return String(v.raw);
    if (isIntKind(k) || isUintKind(k)) return String(v.raw);
    if (isFloatKind(k)) return jsonFloat(v.raw as number, k === "float32" ? 32 : 64);
    switch (k) {
      case "string":
        return jsonString(v.raw as string, html);
      case "pointer":
        if (v.isNil()) return "null";
        return encodeJsOrValue(elem(v), html, depth);
      case "slice":
      case "array": {
        if (k === "slice" && v.isNil()) return "null";
        if (v.type!.elem!.kind === "uint8" && v.type!.elem!.name === undefined) {
          const raw = v.raw;
          const bytes =
            raw instanceof Uint8Array ? raw : Uint8Array.from(sliceItems(v).map((x) => x.raw as number));
          return `"${Buffer.from(bytes).toString("base64")}"`;
        }
        return guarded(v.raw, () =>
          array(
            sliceItems(v).map((x) => encodeJsOrValue(x, html, depth + 1)),
            depth,
          ),
        );
      }
      case "map":
        if (v.isNil()) return "null";
        return guarded(v.raw, () =>
          object(
            mapEntries(v)
              .map(([key, x]) => [mapKey(key), x] as const)
              .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
              .map(([key, x]) => [jsonString(key, html), encodeJsOrValue(x, html, depth + 1)]),
            depth,
          ),
        );
      case "struct":
        if (v.type === TIME) return `"${timeJson(v.raw as Date)}"`;
        return guarded(v.raw, () =>
          object(
            structFields(v)
              .filter(
                (f) =>
                  f.value.isValid() &&
                  !(f.value.kind === "interface" && f.value.isNil() && undefinedField(v, f.name)),
              )
              .map(({ name, value }) => [jsonString(name, html), encodeJsOrValue(value, html, depth + 1)]),
            depth,
          ),
        );
      default:
        throw new GoJsonError(`json: unsupported type: ${v.type}`);
    }
  };

  /** Objects inside a value go back through encodeJs, for the marshaler and plain-object rules. */
  const encodeJsOrValue = (v: Value, html: boolean, depth: number): string => {
    const inner = indirectInterface(v);
    const raw = inner.raw;
    if (
      raw !== null &&
      typeof raw === "object" &&
      !(raw instanceof Date) &&
      (inner.kind === "map" || inner.kind === "struct" || inner.kind === "pointer")
    ) {
      if (options.asMarshaledMap?.(raw) || (plainAsStruct && inner.kind === "map" && isPlain(raw))) {
        return encodeJs(raw, html, depth);
      }
    }
    return encode(inner, html, depth);
  };

  const guarded = (raw: unknown, f: () => string): string => {
    if (raw === null || typeof raw !== "object") return f();
    if (seen.has(raw)) throw new GoJsonError("json: unsupported value: encountered a cycle");
    seen.add(raw);
    try {
      return f();
    } finally {
      seen.delete(raw);
    }
  };

  return encodeJs(value, options.escapeHtml ?? true, 0);
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function undefinedField(v: Value, name: string): boolean {
  return (v.raw as Record<string, unknown>)[name] === undefined;
}

function mapKey(key: Value): string {
  const k = indirectInterface(key);
  if (k.kind === "string") return k.raw as string;
  return String(k.raw);
}
