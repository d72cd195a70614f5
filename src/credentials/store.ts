import {
  type Credentials,
  containersAuthFiles,
  type DockerConfig,
  decodeAuthEntry,
  dockerConfigFile,
  encodeAuthEntry,
  findAuthEntry,
  hostnameOf,
  INDEX_SERVER,
  readDockerConfig,
  serverKey,
  writeDockerConfig,
} from "./docker-config.js";
import { helperErase, helperGet, helperStore } from "./helpers.js";

/**
 * Where the client's logins live, read and written as the docker CLI does: config.json's
 * `credHelpers[server]`, else its `credsStore`, else its `auths`; then, read only, podman's and
 * skopeo's auth files. Lookups are made once per registry and process.
 */
export class CredentialStore {
  private config?: Promise<DockerConfig>;
  private readonly lookups = new Map<string, Promise<Credentials | undefined>>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get file(): string {
    return dockerConfigFile(this.env);
  }

  /** The credentials for a registry as references name it ("docker.io", "host:port"). */
  forRegistry(registry: string): Promise<Credentials | undefined> {
    return this.get(serverKey(registry));
  }

  /** The credentials stored under a server key ("host:port", or INDEX_SERVER for Docker Hub). */
  get(key: string): Promise<Credentials | undefined> {
    let found = this.lookups.get(key);
    if (!found) {
      found = this.lookup(key);
      this.lookups.set(key, found);
    }
    return found;
  }

  private async lookup(key: string): Promise<Credentials | undefined> {
    this.config ??= readDockerConfig(this.file);
    const config = await this.config;
    const helper = helperFor(config, key);
    const creds = helper ? await helperGet(helper, key, this.env) : fromAuths(config, key);
    if (creds) return creds;
    for (const file of containersAuthFiles(this.env)) {
      const fallback = fromAuths(await readDockerConfig(file), key);
      if (fallback) return fallback;
    }
    return undefined;
  }

  /**
   * Saves a login. With a credential helper for the server, the secret goes to the helper and
   * config.json keeps an empty entry, as docker leaves it. Returns the helper's name if one was used.
   */
  async save(key: string, creds: Credentials): Promise<{ helper?: string }> {
    const config = await readDockerConfig(this.file);
    const helper = helperFor(config, key);
    if (helper) await helperStore(helper, key, creds, this.env);
    config.auths[key] = helper ? {} : encodeAuthEntry(creds);
    await writeDockerConfig(config);
    this.lookups.set(key, Promise.resolve(creds));
    return { helper };
  }

  /**
   * Removes every login for the server: under its key and under the URL spellings of the same
   * host that older clients wrote. Returns false when there was none.
   */
  async erase(key: string): Promise<boolean> {
    const config = await readDockerConfig(this.file);
    const host = hostnameOf(key);
    const keys = key === INDEX_SERVER ? [key] : [key, host, `http://${host}`, `https://${host}`];
    for (const k of Object.keys(config.auths)) {
      if (key !== INDEX_SERVER && hostnameOf(k) === host && !keys.includes(k)) keys.push(k);
    }
    let found = false;
    for (const k of keys) {
      const helper = helperFor(config, k);
      if (!helper) continue;
      // Only the server's own key must erase cleanly; the old spellings rarely exist, and helpers
      // differ in how they say so.
      const erased = await helperErase(helper, k, this.env).catch((err: unknown) => {
        if (k === key) throw err;
        return false;
      });
      if (erased) found = true;
    }
    const inFile = keys.filter((k) => k in config.auths);
    if (inFile.length > 0) {
      found = true;
      for (const k of inFile) delete config.auths[k];
      await writeDockerConfig(config);
    }
    this.lookups.delete(key);
    return found;
  }
}

function helperFor(config: DockerConfig, key: string): string | undefined {
  const named = config.credHelpers[key] ?? config.credHelpers[hostnameOf(key)];
  return typeof named === "string" && named ? named : config.credsStore;
}

function fromAuths(config: DockerConfig, key: string): Credentials | undefined {
  const found = findAuthEntry(config.auths, key);
  return found ? decodeAuthEntry(found.entry) : undefined;
}
