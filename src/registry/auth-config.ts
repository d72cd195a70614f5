import { type AccessRule, type Action, compileGlob } from "../auth/access.js";
import { GlobError } from "../auth/errors.js";
import { ConfigError, parseDuration } from "./config.js";

export type AuthType = "none" | "htpasswd" | "token";

/** The registry config's `auth` section. */
export interface AuthConfig {
  type: AuthType;
  /** bcrypt htpasswd file: the accounts for Basic auth and for the token endpoint. */
  htpasswd?: string;
  /** The Basic realm (htpasswd mode). */
  realm: string;
  groups: Record<string, string[]>;
  /** Undefined: any authenticated user may do everything, anonymous callers nothing. */
  access?: AccessRule[];
  token: {
    /** Where clients fetch tokens; default: this server's /token. */
    realm?: string;
    service: string;
    issuer: string;
    /** Other services (external registries) the token endpoint also issues tokens for. */
    audiences: string[];
    key?: string;
    certificate?: string;
    expiration: string;
  };
  rateLimit: { failures: number; window: string };
}

// A function, not a constant: config.ts and this file import each other, and config.ts builds its
// defaults from this while the module graph is still loading.
export function defaultAuthConfig(): AuthConfig {
  return {
    type: "none",
    realm: "berth",
    groups: {},
    token: { service: "berth", issuer: "berth", audiences: [], expiration: "5m" },
    rateLimit: { failures: 10, window: "1m" },
  };
}

const ACTION_NAMES = new Set<string>(["pull", "push", "delete", "*"]);

export function parseAuthConfig(raw: unknown, source: string): AuthConfig {
  const cfg = defaultAuthConfig();
  if (raw === undefined) return cfg;
  const r = mapping(raw, "auth", source, [
    "type",
    "htpasswd",
    "realm",
    "groups",
    "access",
    "token",
    "rateLimit",
  ]);
  if (r.type !== undefined) {
    if (r.type !== "none" && r.type !== "htpasswd" && r.type !== "token") {
      throw new ConfigError(`${source}: auth.type must be none, htpasswd or token`);
    }
    cfg.type = r.type;
  }
  if (r.htpasswd !== undefined) cfg.htpasswd = text(r.htpasswd, "auth.htpasswd", source);
  if (r.realm !== undefined) cfg.realm = text(r.realm, "auth.realm", source);
  if (/["\\]/.test(cfg.realm))
    throw new ConfigError(`${source}: auth.realm cannot contain quotes or backslashes`);
  if (r.groups !== undefined) {
    const groups = mapping(r.groups, "auth.groups", source);
    for (const [name, members] of Object.entries(groups)) {
      cfg.groups[name] = list(members, `auth.groups.${name}`, source);
    }
  }
  if (r.access !== undefined) {
    if (!Array.isArray(r.access)) throw new ConfigError(`${source}: auth.access must be a list of rules`);
    cfg.access = r.access.map((rule, i) => parseRule(rule, `auth.access[${i}]`, source, cfg.groups));
  }
  if (r.token !== undefined) parseToken(r.token, cfg, source);
  if (r.rateLimit !== undefined) {
    const rl = mapping(r.rateLimit, "auth.rateLimit", source, ["failures", "window"]);
    if (rl.failures !== undefined) {
      if (!Number.isInteger(rl.failures) || (rl.failures as number) < 0) {
        throw new ConfigError(
          `${source}: auth.rateLimit.failures must be a whole number (0 disables the limit)`,
        );
      }
      cfg.rateLimit.failures = rl.failures as number;
    }
    if (rl.window !== undefined) cfg.rateLimit.window = duration(rl.window, "auth.rateLimit.window", source);
  }
  if (cfg.type === "htpasswd" && cfg.htpasswd === undefined) {
    throw new ConfigError(
      `${source}: auth.type htpasswd needs auth.htpasswd, the path of a bcrypt htpasswd file`,
    );
  }
  return cfg;
}

function parseRule(raw: unknown, key: string, source: string, groups: Record<string, string[]>): AccessRule {
  const r = mapping(raw, key, source, ["repositories", "users", "groups", "anonymous", "actions"]);
  const repositories = list(r.repositories, `${key}.repositories`, source);
  if (repositories.length === 0) throw new ConfigError(`${source}: ${key}.repositories is empty`);
  for (const pattern of repositories) {
    try {
      compileGlob(pattern);
    } catch (err) {
      if (err instanceof GlobError) throw new ConfigError(`${source}: ${key}.repositories: ${err.message}`);
      throw err;
    }
  }
  const users = r.users === undefined ? [] : list(r.users, `${key}.users`, source);
  const ruleGroups = r.groups === undefined ? [] : list(r.groups, `${key}.groups`, source);
  for (const group of ruleGroups) {
    if (!(group in groups))
      throw new ConfigError(`${source}: ${key}.groups: no group "${group}" in auth.groups`);
  }
  if (r.anonymous !== undefined && typeof r.anonymous !== "boolean") {
    throw new ConfigError(`${source}: ${key}.anonymous must be true or false`);
  }
  const anonymous = r.anonymous === true;
  const actions = list(r.actions, `${key}.actions`, source);
  if (actions.length === 0) throw new ConfigError(`${source}: ${key}.actions is empty`);
  for (const action of actions) {
    if (!ACTION_NAMES.has(action)) {
      throw new ConfigError(`${source}: ${key}.actions: "${action}" is not one of pull, push, delete, "*"`);
    }
  }
  if (users.length === 0 && ruleGroups.length === 0 && !anonymous) {
    throw new ConfigError(`${source}: ${key} applies to nobody: give users, groups or anonymous: true`);
  }
  if (anonymous && !actions.includes("pull") && !actions.includes("*")) {
    throw new ConfigError(
      `${source}: ${key} is anonymous but does not allow pull, the only anonymous action`,
    );
  }
  return { repositories, users, groups: ruleGroups, anonymous, actions: actions as Action[] };
}

function parseToken(raw: unknown, cfg: AuthConfig, source: string): void {
  const t = mapping(raw, "auth.token", source, [
    "realm",
    "service",
    "issuer",
    "audiences",
    "key",
    "certificate",
    "expiration",
  ]);
  if (t.realm !== undefined) {
    const realm = text(t.realm, "auth.token.realm", source);
    let url: URL | undefined;
    try {
      url = new URL(realm);
    } catch {}
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || /["\\]/.test(realm)) {
      throw new ConfigError(`${source}: auth.token.realm must be an http or https URL`);
    }
    cfg.token.realm = realm;
  }
  for (const key of ["service", "issuer"] as const) {
    if (t[key] === undefined) continue;
    cfg.token[key] = text(t[key], `auth.token.${key}`, source);
    if (/["\\\s]/.test(cfg.token[key])) {
      throw new ConfigError(`${source}: auth.token.${key} cannot contain quotes, backslashes or spaces`);
    }
  }
  if (t.audiences !== undefined) cfg.token.audiences = list(t.audiences, "auth.token.audiences", source);
  if (t.key !== undefined) cfg.token.key = text(t.key, "auth.token.key", source);
  if (t.certificate !== undefined)
    cfg.token.certificate = text(t.certificate, "auth.token.certificate", source);
  if (cfg.token.certificate !== undefined && cfg.token.key === undefined) {
    throw new ConfigError(`${source}: auth.token.certificate needs auth.token.key, the key it certifies`);
  }
  if (t.expiration !== undefined) {
    cfg.token.expiration = duration(t.expiration, "auth.token.expiration", source);
    if (parseDuration(cfg.token.expiration) < 1000) {
      throw new ConfigError(`${source}: auth.token.expiration must be at least 1s`);
    }
  }
}

function mapping(value: unknown, key: string, source: string, known?: string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`${source}: ${key} must be a mapping`);
  }
  if (known) {
    for (const k of Object.keys(value)) {
      if (!known.includes(k)) throw new ConfigError(`${source}: unknown key "${key}.${k}"`);
    }
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, key: string, source: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
    throw new ConfigError(`${source}: ${key} must be a list of strings`);
  }
  return value as string[];
}

function text(value: unknown, key: string, source: string): string {
  if (typeof value !== "string" || value === "") throw new ConfigError(`${source}: ${key} must be a string`);
  return value;
}

function duration(value: unknown, key: string, source: string): string {
  const d = text(value, key, source);
  try {
    parseDuration(d);
  } catch (err) {
    throw new ConfigError(`${source}: ${key}: ${(err as Error).message}`);
  }
  return d;
}
