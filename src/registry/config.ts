import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { BerthError } from "../errors.js";
import { type AuthConfig, defaultAuthConfig, parseAuthConfig } from "./auth-config.js";
import { parseTlsSection, type TlsConfig } from "./tls-config.js";

export interface S3Config {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKey?: string;
  secretKey?: string;
  forcePathStyle: boolean;
  rootDirectory: string;
  partSize: number;
  /** Blob GETs answer 307 to a presigned URL instead of streaming through the replica. */
  redirect: boolean;
  createBucket: boolean;
  tls: { ca?: string; insecureSkipVerify: boolean };
}

export interface PostgresConfig {
  url: string;
  poolSize: number;
  lockPoolSize: number;
}

export interface RegistryConfig {
  addr: string;
  root: string;
  log: { level: string };
  delete: { enabled: boolean };
  uploads: { maxAge: string; purgeInterval: string };
  gc: { interval: string; grace: string; deleteUntagged: boolean };
  storage: { s3?: S3Config };
  metadata: { postgres?: PostgresConfig };
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
  storage: {},
  metadata: {},
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
  const known = new Set([
    "addr",
    "root",
    "log",
    "delete",
    "uploads",
    "gc",
    "storage",
    "metadata",
    "tls",
    "auth",
  ]);
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
  cfg.storage = parseStorage(section(r.storage, "storage", source), source);
  cfg.metadata = parseMetadata(section(r.metadata, "metadata", source), source);
  if (cfg.storage.s3 && !cfg.metadata.postgres) {
    throw new ConfigError(
      `${source}: storage.s3 needs metadata.postgres (replicas share their metadata there)`,
    );
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

function onlyKeys(value: Record<string, unknown>, keys: string[], prefix: string, source: string): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new ConfigError(`${source}: unknown key "${prefix}.${key}"`);
  }
}

function bool(value: unknown, key: string, source: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ConfigError(`${source}: ${key} must be true or false`);
  return value;
}

/** "8MiB", "5MB", "16777216": a size in bytes. */
export function parseSize(value: unknown, key: string, source: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  const m = typeof value === "string" ? /^(\d+)\s*(|B|KiB|MiB|GiB|KB|MB|GB)$/.exec(value.trim()) : null;
  if (!m) throw new ConfigError(`${source}: ${key} must be a size such as 8MiB`);
  const scale: Record<string, number> = {
    "": 1,
    B: 1,
    KiB: 1024,
    MiB: 1024 ** 2,
    GiB: 1024 ** 3,
    KB: 1e3,
    MB: 1e6,
    GB: 1e9,
  };
  return Number(m[1]) * scale[m[2]!]!;
}

function parseStorage(raw: Record<string, unknown>, source: string): { s3?: S3Config } {
  onlyKeys(raw, ["filesystem", "s3"], "storage", source);
  if (raw.s3 === undefined) return {};
  const s3 = section(raw.s3, "storage.s3", source);
  onlyKeys(
    s3,
    [
      "endpoint",
      "region",
      "bucket",
      "accessKey",
      "secretKey",
      "forcePathStyle",
      "rootDirectory",
      "partSize",
      "redirect",
      "createBucket",
      "tls",
    ],
    "storage.s3",
    source,
  );
  const tls = section(s3.tls, "storage.s3.tls", source);
  onlyKeys(tls, ["ca", "insecureSkipVerify"], "storage.s3.tls", source);
  const out: S3Config = {
    region: s3.region === undefined ? "us-east-1" : str(s3.region, "storage.s3.region", source),
    bucket: str(s3.bucket, "storage.s3.bucket", source),
    forcePathStyle: bool(s3.forcePathStyle, "storage.s3.forcePathStyle", source, false),
    rootDirectory:
      s3.rootDirectory === undefined ? "/" : str(s3.rootDirectory, "storage.s3.rootDirectory", source),
    partSize:
      s3.partSize === undefined ? 8 * 1024 * 1024 : parseSize(s3.partSize, "storage.s3.partSize", source),
    redirect: bool(s3.redirect, "storage.s3.redirect", source, false),
    createBucket: bool(s3.createBucket, "storage.s3.createBucket", source, true),
    tls: {
      insecureSkipVerify: bool(tls.insecureSkipVerify, "storage.s3.tls.insecureSkipVerify", source, false),
    },
  };
  if (out.partSize < 5 * 1024 * 1024)
    throw new ConfigError(`${source}: storage.s3.partSize must be at least 5MiB (S3's minimum)`);
  if (s3.endpoint !== undefined) {
    out.endpoint = str(s3.endpoint, "storage.s3.endpoint", source);
    if (!/^https?:\/\//.test(out.endpoint))
      throw new ConfigError(`${source}: storage.s3.endpoint must be an http(s) URL`);
  }
  if (s3.accessKey !== undefined) out.accessKey = str(s3.accessKey, "storage.s3.accessKey", source);
  if (s3.secretKey !== undefined) out.secretKey = str(s3.secretKey, "storage.s3.secretKey", source);
  if (tls.ca !== undefined) out.tls.ca = str(tls.ca, "storage.s3.tls.ca", source);
  return { s3: out };
}

function parseMetadata(raw: Record<string, unknown>, source: string): { postgres?: PostgresConfig } {
  onlyKeys(raw, ["postgres"], "metadata", source);
  if (raw.postgres === undefined) return {};
  const pgSection = section(raw.postgres, "metadata.postgres", source);
  onlyKeys(pgSection, ["url", "poolSize", "lockPoolSize"], "metadata.postgres", source);
  const count = (v: unknown, key: string, fallback: number) => {
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
      throw new ConfigError(`${source}: ${key} must be a positive integer`);
    return v;
  };
  return {
    postgres: {
      url: str(pgSection.url, "metadata.postgres.url", source),
      poolSize: count(pgSection.poolSize, "metadata.postgres.poolSize", 16),
      lockPoolSize: count(pgSection.lockPoolSize, "metadata.postgres.lockPoolSize", 64),
    },
  };
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
