import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import type { CredentialStore } from "../credentials/store.js";
import { BerthError } from "../errors.js";
import { defaultRoot, LocalStore } from "../images/local-store.js";
import type { Reference } from "../oci/reference.js";
import type { RemoteRepository } from "../remote/repository.js";
import type { TlsTrust } from "../remote/tls-trust.js";
import type { RegistryClient } from "../remote/transport/client.js";

/** A setting of ROOT/config.yaml that cannot be used; the message names the file and the key. */
export class ClientConfigError extends BerthError {
  override readonly name = "ClientConfigError";
  override readonly code = "CONFIG_INVALID";
}

/** The client's settings: ROOT/config.yaml (or JSON), all optional. */
export interface ClientConfig {
  /** Registries reached over plain HTTP (localhost and 127.0.0.0/8 always are). */
  insecureRegistries: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** Tries per download request, the first included (Docker's max-download-attempts); 1: no retries. */
  maxDownloadAttempts: number;
  /** Tries per upload step (POST, PATCH, PUT), the first included; 1: no retries. */
  maxUploadAttempts: number;
  /** The OCI runtime containers run with: a path, or a name looked up on PATH. */
  runtime: string;
  /** Bytes a build context may hold ("4g", "500m" or a number); `berth build` refuses bigger ones. */
  buildContextLimit?: string | number;
}

const DEFAULTS: ClientConfig = {
  insecureRegistries: [],
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  maxDownloadAttempts: 5,
  maxUploadAttempts: 5,
  runtime: "runc",
};

export interface GlobalFlags {
  root?: string;
}

/** What every client command works with: the local store, the config, and registry connections. */
export class CliContext {
  readonly root: string;
  readonly config: ClientConfig;
  private storeInstance?: LocalStore;
  private readonly clients = new Map<string, RegistryClient>();
  private credentialStore?: Promise<CredentialStore>;

  constructor(flags: GlobalFlags) {
    this.root = flags.root ?? defaultRoot();
    this.config = loadClientConfig(this.root);
  }

  get store(): LocalStore {
    this.storeInstance ??= new LocalStore(this.root);
    return this.storeInstance;
  }

  // The HTTP client is loaded on first use: local commands such as `images` should not pay for it.
  async registryClient(registry: string): Promise<RegistryClient> {
    let client = this.clients.get(registry);
    if (!client) {
      const { createRegistryClient } = await import("../remote/transport/client.js");
      const { DEFAULT_RETRY } = await import("../remote/transport/retry-policy.js");
      baselineWasmOnly();
      client = createRegistryClient({
        host: registry,
        insecure: this.config.insecureRegistries.includes(registry),
        credentials: async (r) => (await this.credentials()).forRegistry(r),
        tls: await this.tlsTrust(registry),
        retry: {
          download: { ...DEFAULT_RETRY, attempts: this.config.maxDownloadAttempts },
          upload: { ...DEFAULT_RETRY, attempts: this.config.maxUploadAttempts },
        },
      });
      this.clients.set(registry, client);
    }
    return client;
  }

  /** CAs for a registry from ROOT/certs.d/HOST:PORT/ and Docker's /etc/docker/certs.d/HOST:PORT/. */
  async tlsTrust(registry: string): Promise<TlsTrust | undefined> {
    const { loadCertsDirs } = await import("../remote/tls-trust.js");
    return loadCertsDirs(registry, [join(this.root, "certs.d"), "/etc/docker/certs.d"]);
  }

  /** The logins of docker's config.json (and podman's auth files), read on first use. */
  credentials(): Promise<CredentialStore> {
    this.credentialStore ??= import("../credentials/store.js").then((m) => new m.CredentialStore());
    return this.credentialStore;
  }

  async repository(ref: Reference): Promise<RemoteRepository> {
    const { RemoteRepository } = await import("../remote/repository.js");
    return new RemoteRepository(await this.registryClient(ref.registry), ref.repository);
  }

  close(): void {
    this.storeInstance?.close();
  }
}

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 runs it first as baseline (Liftoff)
 * code, and once it is hot recompiles it with TurboFan on a background thread: about 300 ms of
 * CPU that a command as short as a push never profits from (the parser only walks headers and
 * body boundaries), and that Node waits for before the process exits (a push measured 0.3 s
 * longer). So the CLI keeps baseline wasm code. Set once undici is loaded: a V8 flag changed
 * before made loading it about 30 ms slower.
 */
function baselineWasmOnly(): void {
  setFlagsFromString("--liftoff-only");
}

function loadClientConfig(root: string): ClientConfig {
  const file = ["config.yaml", "config.yml", "config.json"]
    .map((f) => join(root, f))
    .find((f) => existsSync(f));
  if (!file) return { ...DEFAULTS };
  const text = readFileSync(file, "utf8");
  let raw: Partial<ClientConfig> | null;
  try {
    raw = (
      file.endsWith(".json")
        ? JSON.parse(text)
        : (createRequire(import.meta.url)("yaml") as typeof import("yaml")).parse(text)
    ) as Partial<ClientConfig> | null;
  } catch (err) {
    throw new ClientConfigError(`${file}: ${(err as Error).message}`);
  }
  const cfg = { ...DEFAULTS, ...(raw ?? {}) };
  if (!Array.isArray(cfg.insecureRegistries))
    throw new ClientConfigError(`${file}: insecureRegistries must be a list`);
  for (const key of [
    "maxConcurrentDownloads",
    "maxConcurrentUploads",
    "maxDownloadAttempts",
    "maxUploadAttempts",
  ] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1)
      throw new ClientConfigError(`${file}: ${key} must be a positive integer`);
  }
  if (typeof cfg.runtime !== "string" || cfg.runtime === "")
    throw new ClientConfigError(`${file}: runtime must be a path or a name`);
  return cfg;
}

/**
 * Wraps a commander action: builds the context from the program's global flags (--root), runs
 * the command and closes the store, whatever happens.
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes positional arguments of any shape
export function withContext<A extends any[]>(fn: (ctx: CliContext, ...args: A) => Promise<void>) {
  return async function (this: import("./commander.js").Command, ...args: A): Promise<void> {
    const ctx = new CliContext(this.optsWithGlobals() as GlobalFlags);
    try {
      await fn(ctx, ...args);
    } finally {
      ctx.close();
    }
  };
}
