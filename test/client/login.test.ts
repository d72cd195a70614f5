import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import bcrypt from "bcryptjs";
import { fixtureLayout } from "../helpers/fixtures.js";
import { run, runOk, type Server, start, startDistribution, tempDir } from "../helpers/processes.js";
import { BERTH_BIN, berth, tempRoot } from "./berth.js";

/**
 * `berth login`/`logout` and stored credentials against Debian's docker-registry guarded by
 * htpasswd (Basic auth): what is written where, and that every command then uses it.
 */
const USER = "berth-user";
const PASSWORD = "s3cret-Pa55";
let reg: Server;
let host: string;

before(async () => {
  const dir = await tempDir("berth-htpasswd-");
  const htpasswd = join(dir, "htpasswd");
  await writeFile(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
  reg = await startDistribution({
    extraConfig: ["auth:", "  htpasswd:", "    realm: berth-test", `    path: ${htpasswd}`].join("\n"),
  });
  host = reg.host;
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    "--dest-tls-verify=false",
    "--dest-creds",
    `${USER}:${PASSWORD}`,
    `oci:${fixtureLayout()}:busybox-1`,
    `docker://${host}/fx/busybox-1:v1`,
  ]);
});

after(async () => {
  await reg.stop();
});

interface Home {
  home: string;
  dockerConfig: string;
  env: NodeJS.ProcessEnv;
}

/** A home directory and DOCKER_CONFIG of the test's own; no auth file of the machine leaks in. */
async function freshHome(extra: NodeJS.ProcessEnv = {}): Promise<Home> {
  const home = await tempDir("berth-home-");
  const dockerConfig = join(home, "docker-config");
  return {
    home,
    dockerConfig,
    env: {
      HOME: home,
      DOCKER_CONFIG: dockerConfig,
      REGISTRY_AUTH_FILE: undefined,
      XDG_RUNTIME_DIR: undefined,
      ...extra,
    },
  };
}

function b(root: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  return berth(root, args, { env, input });
}

async function bOk(root: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const r = await b(root, args, env, input);
  assert.equal(r.code, 0, `berth ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
}

const basicAuth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64");

describe("login against a registry with htpasswd auth", () => {
  test("a wrong password fails, prints the registry's refusal and saves nothing", async () => {
    const h = await freshHome();
    const root = await tempRoot();
    const r = await b(root, ["login", host, "-u", USER, "--password-stdin"], h.env, "wrong\n");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error response from daemon: .*unauthorized/m);
    assert.ok(!r.stderr.includes("wrong") && !r.stdout.includes("wrong"), "the password is never printed");
    assert.ok(!existsSync(join(h.dockerConfig, "config.json")), "no config.json written");

    const config = join(h.dockerConfig, "config.json");
    await mkdir(h.dockerConfig, { recursive: true });
    const before = `{"auths":{"other.example:5000":{"auth":"${basicAuth("a", "b")}"}},"psFormat":"x"}`;
    await writeFile(config, before);
    assert.equal((await b(root, ["login", host, "-u", USER, "-p", "wrong"], h.env)).code, 1);
    assert.equal(await readFile(config, "utf8"), before, "an existing config.json is left as it was");
  });

  test("login saves to $DOCKER_CONFIG, pull and push use it, logout removes it", async () => {
    const h = await freshHome();
    const root = await tempRoot();
    const config = join(h.dockerConfig, "config.json");
    await mkdir(h.dockerConfig, { recursive: true });
    const otherAuth = basicAuth("other", "pw");
    await writeFile(
      config,
      JSON.stringify({
        auths: { "other.example:5000": { auth: otherAuth } },
        psFormat: "table {{.ID}}",
        proxies: { default: { httpProxy: "" } },
      }),
    );

    const anonymous = await b(root, ["pull", `${host}/fx/busybox-1:v1`], h.env);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /unauthorized: .*no credentials are stored for/);

    const login = await bOk(root, ["login", host, "-u", USER, "-p", PASSWORD], h.env);
    assert.equal(login.stdout, "Login Succeeded\n");
    assert.match(login.stderr, /WARNING! Using --password via the CLI is insecure\. Use --password-stdin\./);
    assert.ok(!login.stderr.includes(PASSWORD) && !login.stdout.includes(PASSWORD));
    assert.equal((await stat(config)).mode & 0o777, 0o600);
    const saved = await readJson(config);
    assert.deepEqual(saved.auths, {
      "other.example:5000": { auth: otherAuth },
      [host]: { auth: basicAuth(USER, PASSWORD) },
    });
    assert.equal(saved.psFormat, "table {{.ID}}", "other keys are kept");
    assert.deepEqual(saved.proxies, { default: { httpProxy: "" } });

    const pull = await bOk(root, ["pull", `${host}/fx/busybox-1:v1`], h.env);
    assert.match(pull.stdout, /Status: Downloaded newer image/);
    await bOk(root, ["tag", `${host}/fx/busybox-1:v1`, `${host}/pushed/busybox:v2`], h.env);
    const push = await bOk(root, ["push", `${host}/pushed/busybox:v2`], h.env);
    assert.match(push.stdout, /v2: digest: sha256:[0-9a-f]{64} size: \d+/);
    assert.deepEqual((await bOk(root, ["tags", `${host}/pushed/busybox`], h.env)).stdout, "v2\n");

    const logout = await bOk(root, ["logout", host], h.env);
    assert.equal(logout.stdout, `Removing login credentials for ${host}\n`);
    const after = await readJson(config);
    assert.deepEqual(after.auths, { "other.example:5000": { auth: otherAuth } });
    assert.equal(after.psFormat, "table {{.ID}}");
    assert.equal((await stat(config)).mode & 0o777, 0o600);

    await bOk(root, ["tag", `${host}/fx/busybox-1:v1`, `${host}/pushed/busybox:v3`], h.env);
    const denied = await b(root, ["push", `${host}/pushed/busybox:v3`], h.env);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /unauthorized/);
    assert.equal((await bOk(root, ["logout", host], h.env)).stdout, `Not logged in to ${host}\n`);
  });

  test("without DOCKER_CONFIG, ~/.docker/config.json is created 0700/0600; a URL server is stored by host", async () => {
    const h = await freshHome({ DOCKER_CONFIG: undefined });
    const root = await tempRoot();
    const r = await bOk(
      root,
      ["login", `http://${host}/v2/`, "--username", USER, "--password-stdin"],
      h.env,
      `${PASSWORD}\n`,
    );
    assert.equal(r.stdout, "Login Succeeded\n");
    assert.ok(!r.stderr.includes("--password via the CLI"), "no CLI-password warning with --password-stdin");
    const dir = join(h.home, ".docker");
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, "config.json"))).mode & 0o777, 0o600);
    assert.deepEqual((await readJson(join(dir, "config.json"))).auths, {
      [host]: { auth: basicAuth(USER, PASSWORD) },
    });
    // Logging in again without flags tries what is stored first, as docker does.
    const again = await bOk(root, ["login", host], h.env);
    assert.match(again.stdout, /Authenticating with existing credentials\.\.\.\nLogin Succeeded\n/);
  });

  test("stored entries keyed by URL and with username/password fields are found", async () => {
    for (const entry of [
      { [`http://${host}/v2/`]: { auth: basicAuth(USER, PASSWORD) } },
      { [`https://${host}`]: { username: USER, password: PASSWORD } },
    ]) {
      const h = await freshHome();
      await mkdir(h.dockerConfig, { recursive: true });
      await writeFile(join(h.dockerConfig, "config.json"), JSON.stringify({ auths: entry }));
      const r = await bOk(await tempRoot(), ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
      assert.equal(r.stdout.trim(), `${host}/fx/busybox-1:v1`);
    }
  });

  test("docker's argument checks", async () => {
    const h = await freshHome();
    const root = await tempRoot();
    const noUser = await b(root, ["login", host, "--password-stdin"], h.env, "x\n");
    assert.equal(noUser.code, 1);
    assert.match(noUser.stderr, /Must provide --username with --password-stdin/);
    const both = await b(root, ["login", host, "-u", USER, "-p", "x", "--password-stdin"], h.env, "x\n");
    assert.equal(both.code, 1);
    assert.match(both.stderr, /--password and --password-stdin are mutually exclusive/);
    const noTty = await b(root, ["login", host, "-u", USER], h.env);
    assert.equal(noTty.code, 1);
    assert.match(noTty.stderr, /Cannot perform an interactive login from a non TTY device/);
    assert.ok(!existsSync(join(h.dockerConfig, "config.json")));
  });

  test("on a terminal, login prompts for the password without echoing it", async () => {
    const h = await freshHome();
    const root = await tempRoot();
    const cmd = `${process.execPath} ${BERTH_BIN} --root ${root} login ${host} -u ${USER}`;
    // script(1) gives berth a pseudo-terminal; the password is typed only once the prompt is shown.
    const { proc: child } = start("script", ["-qec", cmd, "/dev/null"], { env: h.env, stdin: true });
    let out = "";
    let typed = false;
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!typed && out.includes("Password: ")) {
        typed = true;
        setTimeout(() => child.stdin.write(`${PASSWORD}\r`), 200);
      }
    });
    assert.equal(await exited, 0, out);
    assert.match(out, /Password: /);
    assert.match(out, /Login Succeeded/);
    assert.ok(!out.includes(PASSWORD), "the password is not echoed");
    assert.deepEqual((await readJson(join(h.dockerConfig, "config.json"))).auths, {
      [host]: { auth: basicAuth(USER, PASSWORD) },
    });
  });
});

describe("credential helpers", () => {
  /** A docker-credential-berthtest on PATH that keeps each server's JSON in a file and logs its calls. */
  async function installHelper(): Promise<{ dir: string; log: string; stored: (server: string) => string }> {
    const dir = await tempDir("berth-helper-");
    const data = join(dir, "data");
    await mkdir(data);
    const log = join(dir, "calls.log");
    const script = `#!/bin/sh
set -e
verb="$1"
input=$(cat)
if [ "$verb" = store ]; then
  server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
else
  server="$input"
fi
file="${data}/$(printf '%s' "$server" | tr -c 'A-Za-z0-9.-' _)"
echo "$verb $server" >> "${log}"
case "$verb" in
  store) printf '%s' "$input" > "$file" ;;
  get) if [ -f "$file" ]; then cat "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) if [ -f "$file" ]; then rm "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) echo "unknown verb $verb"; exit 1 ;;
esac
`;
    const bin = join(dir, "docker-credential-berthtest");
    await writeFile(bin, script);
    await chmod(bin, 0o755);
    return {
      dir,
      log,
      stored: (server) => join(data, server.replace(/[^A-Za-z0-9.-]/g, "_")),
    };
  }

  for (const kind of ["credsStore", "credHelpers"] as const) {
    test(`${kind}: login stores through the helper, pull asks it, logout erases`, async () => {
      const helper = await installHelper();
      const h = await freshHome({ PATH: `${helper.dir}${delimiter}${process.env.PATH}` });
      const root = await tempRoot();
      const config = join(h.dockerConfig, "config.json");
      await mkdir(h.dockerConfig, { recursive: true });
      const setting =
        kind === "credsStore" ? { credsStore: "berthtest" } : { credHelpers: { [host]: "berthtest" } };
      await writeFile(config, JSON.stringify({ ...setting, detachKeys: "ctrl-x" }));

      const login = await bOk(root, ["login", host, "-u", USER, "--password-stdin"], h.env, PASSWORD);
      assert.equal(login.stdout, "Login Succeeded\n");
      assert.ok(!login.stderr.includes("stored unencrypted"), "no plain-text warning with a helper");
      const saved = await readJson(config);
      assert.deepEqual(saved.auths, { [host]: {} }, "config.json keeps only an empty entry");
      assert.equal(saved.detachKeys, "ctrl-x");
      assert.ok(!(await readFile(config, "utf8")).includes(basicAuth(USER, PASSWORD)));
      assert.deepEqual(JSON.parse(await readFile(helper.stored(host), "utf8")), {
        ServerURL: host,
        Username: USER,
        Secret: PASSWORD,
      });

      await bOk(root, ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
      const calls = (await readFile(helper.log, "utf8")).trim().split("\n");
      assert.deepEqual(calls, [`store ${host}`, `get ${host}`], "one lookup per registry and process");

      const logout = await bOk(root, ["logout", host], h.env);
      assert.equal(logout.stdout, `Removing login credentials for ${host}\n`);
      assert.ok(!existsSync(helper.stored(host)), "the helper erased its copy");
      assert.deepEqual((await readJson(config)).auths, {});
      const after = await b(root, ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
      assert.equal(after.code, 1);
      assert.match(after.stderr, /unauthorized/);
    });
  }

  test("a helper missing from PATH is a clear error, not a silent anonymous pull", async () => {
    const h = await freshHome();
    await mkdir(h.dockerConfig, { recursive: true });
    await writeFile(join(h.dockerConfig, "config.json"), JSON.stringify({ credsStore: "berth-absent" }));
    const r = await b(await tempRoot(), ["pull", `${host}/fx/busybox-1:v1`], h.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /docker-credential-berth-absent.*not found/);
  });
});

describe("interop with skopeo's auth files", () => {
  test("skopeo reads what berth login wrote", async () => {
    const h = await freshHome();
    const config = join(h.dockerConfig, "config.json");
    await bOk(await tempRoot(), ["login", host, "-u", USER, "--password-stdin"], h.env, PASSWORD);
    const inspect = await runOk("skopeo", [
      "inspect",
      "--authfile",
      config,
      "--tls-verify=false",
      `docker://${host}/fx/busybox-1:v1`,
    ]);
    assert.match(inspect.stdout, /"Digest": "sha256:[0-9a-f]{64}"/);
    const empty = join(await tempDir("berth-empty-auth-"), "auth.json");
    await writeFile(empty, '{"auths":{}}');
    const refused = await run("skopeo", [
      "inspect",
      "--authfile",
      empty,
      "--tls-verify=false",
      `docker://${host}/fx/busybox-1:v1`,
    ]);
    assert.notEqual(refused.code, 0, "without the login skopeo is refused: the credentials did the work");
  });

  test("berth reads what skopeo login wrote, through REGISTRY_AUTH_FILE", async () => {
    const authFile = join(await tempDir("berth-skopeo-auth-"), "auth.json");
    await runOk(
      "skopeo",
      ["login", "--authfile", authFile, "--tls-verify=false", "-u", USER, "--password-stdin", host],
      { input: PASSWORD },
    );
    const h = await freshHome({ REGISTRY_AUTH_FILE: authFile });
    const r = await bOk(await tempRoot(), ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
    assert.equal(r.stdout.trim(), `${host}/fx/busybox-1:v1`);
    assert.ok(!existsSync(join(h.dockerConfig, "config.json")), "reading never writes");
  });

  test("podman's per-user auth file under XDG_RUNTIME_DIR is a fallback too", async () => {
    const runtime = await tempDir("berth-xdg-");
    await mkdir(join(runtime, "containers"));
    await writeFile(
      join(runtime, "containers", "auth.json"),
      JSON.stringify({ auths: { [host]: { auth: basicAuth(USER, PASSWORD) } } }),
    );
    const h = await freshHome({ XDG_RUNTIME_DIR: runtime });
    await bOk(await tempRoot(), ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
  });
});
