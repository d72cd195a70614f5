import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { BerthError } from "../errors.js";
import { type AuthConfig, defaultAuthConfig, parseAuthConfig } from "./auth-config.js";
import { parseTlsSection, type TlsConfig } from "./tls-config.js";

export interface RegistryConfig {
  addr: string;
  root: string;
  log: { level: string };
  delete: { enabled: boolean };
  uploads: { maxAge: string; purgeInterval: string };
  gc: { interval: string; grace: string; deleteUntagged: boolean };
  tls?: TlsConfig;
  auth: AuthConfig;
}

export const DEFAULT_CONFIG: RegistryConfig = {
  addr: "127.0.0.1:5000",
  root: "./data",
  log: { level: "info" },
  delete: { enabled: true },
  uploads: { maxAge: "168h", purgeInterval: "1h" },
  gc: { interval: "1h", grace: "1h", deleteUntagged: false },
  auth: defaultAuthConfig(),
};

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

export class ConfigError extends BerthError {
  override readonly name = "ConfigError";
}

/** Reads a YAML (or JSON, which is YAML) config file and merges it over the defaults. */
export async function loadConfig(file: string | undefined): Promise<RegistryConfig> {
  if (!file) return structuredClone(DEFAULT_CONFIG);
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  return mergeConfig(raw ?? {}, file);
}

export function mergeConfig(raw: unknown, source = "config"): RegistryConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: the config must be a mapping`);
  }
  const r = raw as Record<string, unknown>;
  const known = new Set(["addr", "root", "log", "delete", "uploads", "gc", "tls", "auth"]);
  for (const key of Object.keys(r)) {
    if (!known.has(key)) throw new ConfigError(`${source}: unknown key "${key}"`);
  }
  const cfg = structuredClone(DEFAULT_CONFIG);
  if (r.addr !== undefined) cfg.addr = str(r.addr, "addr", source);
  if (r.root !== undefined) cfg.root = str(r.root, "root", source);
  const log = section(r.log, "log", source);
  if (log.level !== undefined) cfg.log.level = str(log.level, "log.level", source);
  const del = section(r.delete, "delete", source);
  if (del.enabled !== undefined) {
    if (typeof del.enabled !== "boolean")
      throw new ConfigError(`${source}: delete.enabled must be true or false`);
    cfg.delete.enabled = del.enabled;
  }
  const uploads = section(r.uploads, "uploads", source);
  if (uploads.maxAge !== undefined) cfg.uploads.maxAge = str(uploads.maxAge, "uploads.maxAge", source);
  if (uploads.purgeInterval !== undefined) {
    cfg.uploads.purgeInterval = str(uploads.purgeInterval, "uploads.purgeInterval", source);
  }
  const gc = section(r.gc, "gc", source);
  for (const key of Object.keys(gc)) {
    if (!["interval", "grace", "deleteUntagged"].includes(key)) {
      throw new ConfigError(`${source}: unknown key "gc.${key}"`);
    }
  }
  if (gc.interval !== undefined) cfg.gc.interval = str(gc.interval, "gc.interval", source);
  if (gc.grace !== undefined) cfg.gc.grace = str(gc.grace, "gc.grace", source);
  if (gc.deleteUntagged !== undefined) {
    if (typeof gc.deleteUntagged !== "boolean") {
      throw new ConfigError(`${source}: gc.deleteUntagged must be true or false`);
    }
    cfg.gc.deleteUntagged = gc.deleteUntagged;
  }
  cfg.tls = parseTlsSection(r.tls, source);
  cfg.auth = parseAuthConfig(r.auth, source);
  validateConfig(cfg, source);
  return cfg;
}

export function validateConfig(cfg: RegistryConfig, source = "config"): void {
  parseAddr(cfg.addr);
  if (!LOG_LEVELS.has(cfg.log.level)) {
    throw new ConfigError(`${source}: log.level must be one of ${[...LOG_LEVELS].join(", ")}`);
  }
  parseDuration(cfg.uploads.maxAge);
  parseDuration(cfg.uploads.purgeInterval);
  parseDuration(cfg.gc.interval);
  parseDuration(cfg.gc.grace);
}

/** "HOST:PORT", "[v6]:PORT" or ":PORT" (all interfaces). */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new ConfigError(`invalid address "${addr}": expected HOST:PORT`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** Go-style durations as distribution's config uses them: "90s", "15m", "168h", "1h30m"; "0" disables. */
export function parseDuration(value: string): number {
  if (value === "0") return 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (const m of value.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0].length;
  }
  if (matched === 0 || matched !== value.length) {
    throw new ConfigError(`invalid duration "${value}": use e.g. 90s, 15m, 168h`);
  }
  return total;
}

function str(value: unknown, key: string, source: string): string {
  if (typeof value !== "string" || value === "") throw new ConfigError(`${source}: ${key} must be a string`);
  return value;
}

function section(value: unknown, key: string, source: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`${source}: ${key} must be a mapping`);
  }
  return value as Record<string, unknown>;
}
