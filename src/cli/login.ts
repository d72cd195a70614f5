import { type Credentials, hostnameOf, INDEX_SERVER } from "../credentials/docker-config.js";
import { InvalidArgumentError } from "../errors.js";
import { LoginError, NetworkError } from "../remote/errors.js";
import { createRegistryClient } from "../remote/transport/client.js";
import { Command } from "./commander.js";
import { type CliContext, withContext } from "./context.js";
import { openPrompter } from "./prompt.js";

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export function loginCommand(): Command {
  return new Command("login")
    .description("Log in to a registry")
    .argument("[server]", "registry (default: Docker Hub)")
    .option("-u, --username <username>", "username")
    .option("-p, --password <password>", "password")
    .option("--password-stdin", "take the password from stdin")
    .action(
      withContext(async (ctx, server: string | undefined, flags: LoginFlags) => runLogin(ctx, server, flags)),
    );
}

export function logoutCommand(): Command {
  return new Command("logout")
    .description("Log out from a registry")
    .argument("[server]", "registry (default: Docker Hub)")
    .action(
      withContext(async (ctx, server: string | undefined) => {
        const key = serverKeyOf(server);
        const found = await (await ctx.credentials()).erase(key);
        process.stdout.write(found ? `Removing login credentials for ${key}\n` : `Not logged in to ${key}\n`);
      }),
    );
}

/** docker login's key for a server argument: Docker Hub's index URL, else the bare host[:port]. */
function serverKeyOf(server: string | undefined): string {
  if (!server || server === "docker.io") return INDEX_SERVER;
  return hostnameOf(server);
}

async function runLogin(ctx: CliContext, server: string | undefined, flags: LoginFlags): Promise<void> {
  if (flags.password !== undefined && flags.passwordStdin) {
    throw new InvalidArgumentError("--password and --password-stdin are mutually exclusive");
  }
  let password = flags.password;
  if (flags.passwordStdin) {
    if (!flags.username) throw new InvalidArgumentError("Must provide --username with --password-stdin");
    password = (await readStdin()).replace(/\n$/, "").replace(/\r$/, "");
  }
  if (flags.password !== undefined) {
    process.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  }
  const key = serverKeyOf(server);
  const registry = key === INDEX_SERVER ? "docker.io" : key;
  const store = await ctx.credentials();
  const client = createRegistryClient({
    host: registry,
    insecure: ctx.config.insecureRegistries.includes(registry),
    tls: await ctx.tlsTrust(registry),
  });

  let username = flags.username;
  if (username === undefined && password === undefined) {
    const stored = await store.get(key);
    if (stored && (stored.password || stored.identityToken)) {
      process.stdout.write("Authenticating with existing credentials...\n");
      try {
        await client.login(stored);
        process.stdout.write("Login Succeeded\n");
        return;
      } catch (err) {
        if (!(err instanceof LoginError)) throw err;
        process.stderr.write(`Login did not succeed, error: ${err.message}\n`);
      }
    }
  }
  if (username === undefined || password === undefined) {
    if (!process.stdin.isTTY)
      throw new InvalidArgumentError("Cannot perform an interactive login from a non TTY device");
    const previous = username === undefined ? (await store.get(key))?.username : undefined;
    const prompter = openPrompter();
    try {
      if (username === undefined) {
        const answer = (await prompter.ask(previous ? `Username (${previous}): ` : "Username: ")).trim();
        username = answer || previous || "";
      }
      if (!username) throw new InvalidArgumentError("Non-null Username Required");
      password = await prompter.ask("Password: ", true);
    } finally {
      prompter.close();
    }
  }
  if (!username) throw new InvalidArgumentError("Non-null Username Required");
  if (!password) throw new InvalidArgumentError("Password Required");

  let creds: Credentials = { username, password };
  try {
    const { identityToken } = await client.login(creds);
    // docker keeps a refresh token the registry hands out instead of the password.
    if (identityToken) creds = { username, password: "", identityToken };
  } catch (err) {
    if (!(err instanceof LoginError || err instanceof NetworkError)) throw err;
    process.stderr.write(`Error response from daemon: ${err.message}\n`);
    process.exitCode = 1;
    return;
  }
  const { helper } = await store.save(key, creds);
  if (!helper) {
    process.stderr.write(
      `WARNING! Your password will be stored unencrypted in ${store.file}.\n` +
        "Configure a credential helper to remove this warning. See\n" +
        "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n",
    );
  }
  process.stdout.write("Login Succeeded\n");
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
