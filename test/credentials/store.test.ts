import assert from "node:assert/strict";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { describe, test } from "node:test";
import { INDEX_SERVER } from "../../src/credentials/docker-config.js";
import { CredentialHelperError } from "../../src/credentials/errors.js";
import { helperErase, helperGet, helperStore } from "../../src/credentials/helpers.js";
import { CredentialStore } from "../../src/credentials/store.js";
import { tempDir } from "../helpers/processes.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

interface Home {
  home: string;
  dockerConfig: string;
  file: string;
  env: NodeJS.ProcessEnv;
  /** Calls the docker-credential-test helper received, as "VERB SERVER". */
  calls(): Promise<string[]>;
  /** What the helper holds for a server (its stored JSON), or undefined. */
  held(server: string): Promise<unknown>;
}

/**
 * A home of the test's own with a tiny `docker-credential-test` on PATH that keeps each
 * server's JSON in a file and logs its calls; `SERVER` named "fail.example" makes it fail
 * the way a broken keychain does.
 */
async function freshHome(extra: NodeJS.ProcessEnv = {}): Promise<Home> {
  const home = await tempDir("berth-home-");
  const bin = join(home, "bin");
  const data = join(home, "helper-data");
  const log = join(home, "helper.log");
  await mkdir(bin);
  await mkdir(data);
  await writeFile(
    join(bin, "docker-credential-test"),
    `#!/bin/sh
verb="$1"
input=$(cat)
if [ "$verb" = store ]; then
  server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
else
  server="$input"
fi
echo "$verb $server" >> "${log}"
case "$server" in fail.example) echo "keychain is locked"; exit 3 ;; garbled.example) echo "{not json"; exit 0 ;; esac
file="${data}/$(printf '%s' "$server" | tr -c 'A-Za-z0-9.-' _)"
case "$verb" in
  store) printf '%s' "$input" > "$file" ;;
  get) if [ -f "$file" ]; then cat "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) if [ -f "$file" ]; then rm "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) echo "unknown verb"; exit 1 ;;
esac
`,
  );
  await chmod(join(bin, "docker-credential-test"), 0o755);
  const dockerConfig = join(home, ".docker");
  return {
    home,
    dockerConfig,
    file: join(dockerConfig, "config.json"),
    env: {
      HOME: home,
      PATH: `${bin}${delimiter}${process.env.PATH}`,
      DOCKER_CONFIG: undefined,
      REGISTRY_AUTH_FILE: undefined,
      XDG_RUNTIME_DIR: undefined,
      ...extra,
    },
    calls: async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean),
    held: async (server) => {
      const text = await readFile(join(data, server.replace(/[^A-Za-z0-9.-]/g, "_")), "utf8").catch(
        () => undefined,
      );
      return text === undefined ? undefined : JSON.parse(text);
    },
  };
}

async function writeConfig(h: Home, config: object): Promise<void> {
  await mkdir(h.dockerConfig, { recursive: true });
  await writeFile(h.file, JSON.stringify(config));
}

describe("the credential helper protocol", () => {
  test("store, get and erase through docker-credential-test; an identity token is stored as <token>", async () => {
    const h = await freshHome();
    await helperStore("test", "reg.example", { username: "u", password: "p" }, h.env);
    assert.deepEqual(await h.held("reg.example"), { ServerURL: "reg.example", Username: "u", Secret: "p" });
    assert.deepEqual(await helperGet("test", "reg.example", h.env), { username: "u", password: "p" });

    await helperStore(
      "test",
      "tok.example",
      { username: "", password: "", identityToken: "refresh-1" },
      h.env,
    );
    assert.deepEqual(await h.held("tok.example"), {
      ServerURL: "tok.example",
      Username: "<token>",
      Secret: "refresh-1",
    });
    assert.deepEqual(await helperGet("test", "tok.example", h.env), {
      username: "",
      password: "",
      identityToken: "refresh-1",
    });

    assert.equal(await helperErase("test", "reg.example", h.env), true);
    assert.equal(await helperErase("test", "reg.example", h.env), false, "nothing left to erase");
    assert.equal(await helperGet("test", "reg.example", h.env), undefined, "not found is not an error");
    assert.deepEqual(await h.calls(), [
      "store reg.example",
      "get reg.example",
      "store tok.example",
      "get tok.example",
      "erase reg.example",
      "erase reg.example",
      "get reg.example",
    ]);
  });

  test("a failing helper is an error in docker's words", async () => {
    const h = await freshHome();
    await assert.rejects(helperGet("test", "fail.example", h.env), (err: unknown) => {
      assert.ok(err instanceof CredentialHelperError);
      assert.equal(
        err.message,
        "error getting credentials - err: exit status 3, out: `keychain is locked` (helper docker-credential-test)",
      );
      return true;
    });
    await assert.rejects(
      helperStore("test", "fail.example", { username: "u", password: "secret-pw" }, h.env),
      (err: unknown) => {
        assert.match((err as Error).message, /^error storing credentials - err: exit status 3/);
        assert.ok(!(err as Error).message.includes("secret-pw"));
        return true;
      },
    );
    await assert.rejects(helperGet("test", "garbled.example", h.env), /the helper's answer is not JSON/);
  });

  test("a helper that is not on PATH", async () => {
    const h = await freshHome();
    await assert.rejects(
      helperGet("absent", "reg.example", h.env),
      /^CredentialHelperError: error getting credentials - err: exec: "docker-credential-absent": executable file not found in \$PATH/,
    );
  });
});

describe("the credential store", () => {
  test("without a helper: config.json, mode 0600, other keys untouched; looked up once per registry", async () => {
    const h = await freshHome();
    await writeConfig(h, { psFormat: "x", auths: { "other.example": { auth: b64("o:p") } } });
    const store = new CredentialStore(h.env);
    assert.equal(store.file, h.file);
    assert.deepEqual(await store.save("reg.example:5000", { username: "u", password: "p" }), {
      helper: undefined,
    });
    const written = JSON.parse(await readFile(h.file, "utf8")) as Record<string, unknown>;
    assert.deepEqual(written, {
      psFormat: "x",
      auths: { "other.example": { auth: b64("o:p") }, "reg.example:5000": { auth: b64("u:p") } },
    });
    assert.equal((await stat(h.file)).mode & 0o777, 0o600);

    const reader = new CredentialStore(h.env);
    assert.deepEqual(await reader.forRegistry("reg.example:5000"), { username: "u", password: "p" });
    await writeConfig(h, {});
    assert.deepEqual(
      await reader.forRegistry("reg.example:5000"),
      { username: "u", password: "p" },
      "cached",
    );
    assert.equal(await new CredentialStore(h.env).forRegistry("reg.example:5000"), undefined);
  });

  test("Docker Hub is kept under its index URL and found by any of its names", async () => {
    const h = await freshHome();
    const store = new CredentialStore(h.env);
    await store.save(INDEX_SERVER, { username: "hub", password: "pw" });
    assert.deepEqual(Object.keys((JSON.parse(await readFile(h.file, "utf8")) as { auths: object }).auths), [
      INDEX_SERVER,
    ]);
    assert.deepEqual(await new CredentialStore(h.env).forRegistry("docker.io"), {
      username: "hub",
      password: "pw",
    });
    await writeConfig(h, { auths: { "https://index.docker.io/v1/access": { auth: b64("old:pw") } } });
    assert.deepEqual(await new CredentialStore(h.env).forRegistry("docker.io"), {
      username: "old",
      password: "pw",
    });
  });

  test("erase removes every spelling of the server's key", async () => {
    const h = await freshHome();
    await writeConfig(h, {
      auths: {
        "reg.example": { auth: b64("a:1") },
        "https://reg.example/v2/": { auth: b64("b:2") },
        "http://reg.example": { auth: b64("c:3") },
        "keep.example": { auth: b64("d:4") },
      },
      credsStore: "",
    });
    const store = new CredentialStore(h.env);
    assert.equal(await store.erase("reg.example"), true);
    assert.deepEqual(Object.keys((JSON.parse(await readFile(h.file, "utf8")) as { auths: object }).auths), [
      "keep.example",
    ]);
    assert.equal(await store.erase("reg.example"), false);
  });

  for (const kind of ["credsStore", "credHelpers"] as const) {
    test(`${kind}: the secret goes to the helper, config.json keeps an empty entry`, async () => {
      const h = await freshHome();
      await writeConfig(
        h,
        kind === "credsStore" ? { credsStore: "test" } : { credHelpers: { "reg.example": "test" } },
      );
      const store = new CredentialStore(h.env);
      assert.deepEqual(await store.save("reg.example", { username: "u", password: "p" }), { helper: "test" });
      const file = JSON.parse(await readFile(h.file, "utf8")) as { auths: object };
      assert.deepEqual(file.auths, { "reg.example": {} });
      assert.ok(!(await readFile(h.file, "utf8")).includes(b64("u:p")));
      assert.deepEqual(await h.held("reg.example"), { ServerURL: "reg.example", Username: "u", Secret: "p" });
      assert.deepEqual(await new CredentialStore(h.env).forRegistry("reg.example"), {
        username: "u",
        password: "p",
      });
      assert.equal(await new CredentialStore(h.env).erase("reg.example"), true);
      assert.equal(await h.held("reg.example"), undefined);
    });
  }

  test("credHelpers for a server wins over credsStore", async () => {
    const h = await freshHome();
    await writeConfig(h, { credsStore: "absent", credHelpers: { "reg.example": "test" } });
    await new CredentialStore(h.env).save("reg.example", { username: "u", password: "p" });
    assert.deepEqual(await h.calls(), ["store reg.example"]);
    await assert.rejects(new CredentialStore(h.env).forRegistry("other.example"), /docker-credential-absent/);
  });

  test("podman's auth files are read after config.json, in order, and never written", async () => {
    const runtime = await tempDir("berth-xdg-");
    const authFile = join(await tempDir("berth-authfile-"), "auth.json");
    const h = await freshHome({ XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: authFile });
    const entry = (user: string) => ({ auths: { "reg.example": { auth: b64(`${user}:pw`) } } });
    await mkdir(join(runtime, "containers"));
    await mkdir(join(h.home, ".config", "containers"), { recursive: true });
    await writeFile(join(h.home, ".config", "containers", "auth.json"), JSON.stringify(entry("home")));
    const lookup = () => new CredentialStore(h.env).forRegistry("reg.example");
    assert.deepEqual(await lookup(), { username: "home", password: "pw" });
    await writeFile(join(runtime, "containers", "auth.json"), JSON.stringify(entry("xdg")));
    assert.deepEqual(await lookup(), { username: "xdg", password: "pw" });
    await writeFile(authFile, JSON.stringify(entry("authfile")));
    assert.deepEqual(await lookup(), { username: "authfile", password: "pw" });
    await writeConfig(h, entry("docker"));
    assert.deepEqual(await lookup(), { username: "docker", password: "pw" });
    // A login is saved to config.json only.
    await new CredentialStore(h.env).save("new.example", { username: "n", password: "p" });
    assert.deepEqual(JSON.parse(await readFile(authFile, "utf8")), entry("authfile"));
  });

  test("a broken podman auth file is an error naming it", async () => {
    const authFile = join(await tempDir("berth-authfile-"), "auth.json");
    await writeFile(authFile, "{oops");
    const h = await freshHome({ REGISTRY_AUTH_FILE: authFile });
    await assert.rejects(new CredentialStore(h.env).forRegistry("reg.example"), (err: unknown) => {
      assert.match((err as Error).message, new RegExp(`^${authFile.replace(/[.]/g, "\\.")}: `));
      return true;
    });
  });
});
