import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CredentialsFileError } from "./errors.js";

/** What one registry's login amounts to: a user and password, or an OAuth2 refresh token. */
export interface Credentials {
  username: string;
  password: string;
  /** A refresh token for the registry's OAuth2 token endpoint; replaces the password when set. */
  identityToken?: string;
}

/** Docker Hub's key in config.json, kept from the v1 API days (docker's registry.IndexServer). */
export const INDEX_SERVER = "https://index.docker.io/v1/";

/** One entry of `auths`, as docker and podman write it. */
export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [other: string]: unknown;
}

/** A parsed config.json. Keys Berth does not know stay in `raw` and are written back untouched. */
export interface DockerConfig {
  file: string;
  raw: Record<string, unknown>;
  auths: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers: Record<string, string>;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(home(env), ".docker"), "config.json");
}

/** The home directory the environment names (as os.homedir() reads $HOME), for a store given an environment of its own. */
function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/** podman's and skopeo's auth files, in the order containers-auth.json(5) reads them. */
export function containersAuthFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  files.push(join(home(env), ".config", "containers", "auth.json"));
  return files;
}

/** Reads a config file; a missing file is an empty config. */
export async function readDockerConfig(file: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { file, raw: {}, auths: {}, credHelpers: {} };
    throw new CredentialsFileError(file, (err as Error).message);
  }
  let raw: unknown;
  try {
    raw = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new CredentialsFileError(file, (err as Error).message);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CredentialsFileError(file, "not a JSON object");
  }
  const obj = raw as Record<string, unknown>;
  const auths = isObject(obj.auths) ? (obj.auths as Record<string, AuthEntry>) : {};
  const credHelpers = isObject(obj.credHelpers) ? (obj.credHelpers as Record<string, string>) : {};
  const credsStore = typeof obj.credsStore === "string" && obj.credsStore ? obj.credsStore : undefined;
  return { file, raw: obj, auths, credsStore, credHelpers };
}

/**
 * Writes the config back with `auths` replaced and every other key as it was: a temporary file
 * of mode 0600 in the same directory, renamed over the old one, so a reader never sees half a
 * file and the secrets are never readable by others, not even for a moment. A symlinked
 * config.json is written through to its target, as docker does.
 */
export async function writeDockerConfig(config: DockerConfig): Promise<void> {
  let target = config.file;
  if (existsSync(target)) target = await realpath(target);
  else await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const out = { ...config.raw, auths: config.auths };
  const tmp = join(dirname(target), `.config.json.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(out, null, "\t")}\n`, { mode: 0o600, flag: "wx" });
    // The mode of writeFile is filtered by the umask; 0600 is what is wanted whatever the umask.
    await chmod(tmp, 0o600);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CredentialsFileError(target, (err as Error).message);
  }
}

/** docker's registry.ConvertToHostname: "https://host:port/v2/" → "host:port". */
export function hostnameOf(key: string): string {
  const stripped = key.replace(/^https?:\/\//, "");
  return stripped.split("/")[0]!;
}

/** The config.json key for a registry as references name it: Docker Hub's is INDEX_SERVER. */
export function serverKey(registry: string): string {
  return registry === "docker.io" ? INDEX_SERVER : registry;
}

/** Docker Hub answers to several names; they are all one registry for finding its credentials. */
function canonicalHost(host: string): string {
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

/**
 * The entry for a server key: the exact key, else any key that names the same host (keys
 * written as URLs, "http://host:port/v2/", as docker's own lookup accepts).
 */
export function findAuthEntry(
  auths: Record<string, AuthEntry>,
  key: string,
): { key: string; entry: AuthEntry } | undefined {
  const exact = auths[key];
  if (isObject(exact)) return { key, entry: exact };
  const host = canonicalHost(hostnameOf(key));
  for (const [k, entry] of Object.entries(auths)) {
    if (isObject(entry) && canonicalHost(hostnameOf(k)) === host) return { key: k, entry };
  }
  return undefined;
}

/** Credentials from an entry: `auth` (base64 "user:password") wins over `username`/`password`. */
export function decodeAuthEntry(entry: AuthEntry): Credentials | undefined {
  let username = typeof entry.username === "string" ? entry.username : "";
  let password = typeof entry.password === "string" ? entry.password : "";
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const identityToken =
    typeof entry.identitytoken === "string" && entry.identitytoken ? entry.identitytoken : undefined;
  if (!username && !password && !identityToken) return undefined;
  return identityToken ? { username, password, identityToken } : { username, password };
}

/** The entry docker writes for credentials kept in the file itself. */
export function encodeAuthEntry(creds: Credentials): AuthEntry {
  const entry: AuthEntry = {};
  if (creds.username || creds.password) {
    entry.auth = Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
  }
  if (creds.identityToken) entry.identitytoken = creds.identityToken;
  return entry;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
