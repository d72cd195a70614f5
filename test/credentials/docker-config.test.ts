import assert from "node:assert/strict";
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type AuthEntry,
  containersAuthFiles,
  decodeAuthEntry,
  dockerConfigFile,
  encodeAuthEntry,
  findAuthEntry,
  hostnameOf,
  INDEX_SERVER,
  readDockerConfig,
  serverKey,
  writeDockerConfig,
} from "../../src/credentials/docker-config.js";
import { CredentialsFileError } from "../../src/credentials/errors.js";
import { tempDir } from "../helpers/processes.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("where the files are", () => {
  test("config.json: $DOCKER_CONFIG, else $HOME/.docker", () => {
    assert.equal(dockerConfigFile({ DOCKER_CONFIG: "/cfg", HOME: "/home/u" }), "/cfg/config.json");
    assert.equal(dockerConfigFile({ DOCKER_CONFIG: "", HOME: "/home/u" }), "/home/u/.docker/config.json");
  });

  test("podman's auth files in containers-auth.json(5)'s order", () => {
    assert.deepEqual(
      containersAuthFiles({ REGISTRY_AUTH_FILE: "/a.json", XDG_RUNTIME_DIR: "/run/user/7", HOME: "/h" }),
      ["/a.json", "/run/user/7/containers/auth.json", "/h/.config/containers/auth.json"],
    );
    assert.deepEqual(containersAuthFiles({ HOME: "/h" }), ["/h/.config/containers/auth.json"]);
  });
});

describe("reading config.json", () => {
  test("a missing or empty file is an empty config", async () => {
    const dir = await tempDir("berth-cfg-");
    assert.deepEqual(await readDockerConfig(join(dir, "config.json")), {
      file: join(dir, "config.json"),
      raw: {},
      auths: {},
      credHelpers: {},
    });
    await writeFile(join(dir, "config.json"), "  \n");
    assert.deepEqual((await readDockerConfig(join(dir, "config.json"))).auths, {});
  });

  const broken: [string, string, RegExp][] = [
    ["not JSON", "{auths:", /config\.json: .*JSON/],
    ["an array", "[]", /config\.json: not a JSON object$/],
    ["a string", '"auths"', /config\.json: not a JSON object$/],
  ];
  for (const [what, text, message] of broken) {
    test(`${what}: an error naming the file, not a silent empty config`, async () => {
      const file = join(await tempDir("berth-cfg-"), "config.json");
      await writeFile(file, text);
      await assert.rejects(readDockerConfig(file), (err: unknown) => {
        assert.ok(err instanceof CredentialsFileError);
        assert.equal(err.file, file);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test("auths, credsStore and credHelpers of odd types are ignored, not trusted", async () => {
    const file = join(await tempDir("berth-cfg-"), "config.json");
    await writeFile(file, JSON.stringify({ auths: [1], credsStore: 7, credHelpers: "x" }));
    const config = await readDockerConfig(file);
    assert.deepEqual([config.auths, config.credsStore, config.credHelpers], [{}, undefined, {}]);
  });
});

describe("writing config.json", () => {
  test("round trip: what is written reads back; every other key stays as it was", async () => {
    const dir = await tempDir("berth-cfg-");
    const file = join(dir, "config.json");
    const others = {
      psFormat: "table {{.ID}}",
      detachKeys: "ctrl-x,x",
      proxies: { default: { httpProxy: "http://proxy:3128", noProxy: "*.local" } },
      HttpHeaders: { "X-Meta": "1" },
      credHelpers: { "gcr.io": "gcloud" },
      plugins: { x: { y: [1, 2, 3] } },
    };
    await writeFile(file, JSON.stringify({ ...others, auths: { "old.example": { auth: b64("a:b") } } }));
    const config = await readDockerConfig(file);
    config.auths["new.example:5000"] = encodeAuthEntry({ username: "u", password: "p:w" });
    delete config.auths["old.example"];
    await writeDockerConfig(config);

    const written = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    assert.deepEqual(written, { ...others, auths: { "new.example:5000": { auth: b64("u:p:w") } } });
    const again = await readDockerConfig(file);
    assert.deepEqual(decodeAuthEntry(again.auths["new.example:5000"]!), { username: "u", password: "p:w" });
    assert.equal(again.credHelpers["gcr.io"], "gcloud");
  });

  test("mode 0600 whatever the umask, in a directory made 0700", async () => {
    const dir = join(await tempDir("berth-cfg-"), "fresh", ".docker");
    const file = join(dir, "config.json");
    const old = process.umask(0o000);
    try {
      const config = await readDockerConfig(file);
      config.auths.h = encodeAuthEntry({ username: "u", password: "p" });
      await writeDockerConfig(config);
    } finally {
      process.umask(old);
    }
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });

  test("atomic: a reader never sees half a file, and no temporary file is left", async () => {
    const dir = await tempDir("berth-cfg-");
    const file = join(dir, "config.json");
    await writeFile(file, "{}");
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        JSON.parse(await readFile(file, "utf8"));
        reads++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    // Big entries, so a torn write would show.
    for (let i = 0; i < 40; i++) {
      const config = await readDockerConfig(file);
      config.auths[`r${i}.example`] = { auth: b64(`user${i}:${"x".repeat(20_000)}`) };
      await writeDockerConfig(config);
    }
    writing = false;
    await reader;
    assert.ok(reads > 0);
    assert.equal(Object.keys((await readDockerConfig(file)).auths).length, 40);
    assert.deepEqual(await readdir(dir), ["config.json"]);
  });

  test("a write that fails leaves the old file and no temporary file", async () => {
    const dir = await tempDir("berth-cfg-");
    const file = join(dir, "config.json");
    await mkdir(file); // rename onto a directory fails
    const config = { file, raw: { psFormat: "x" }, auths: { h: { auth: b64("u:p") } }, credHelpers: {} };
    await assert.rejects(writeDockerConfig(config), CredentialsFileError);
    assert.deepEqual(await readdir(dir), ["config.json"]);
    assert.ok((await stat(file)).isDirectory());
  });

  test("a symlinked config.json is written through to its target, the link kept", async () => {
    const dir = await tempDir("berth-cfg-");
    const target = join(dir, "dotfiles-config.json");
    await writeFile(target, JSON.stringify({ psFormat: "mine" }));
    await mkdir(join(dir, ".docker"));
    const link = join(dir, ".docker", "config.json");
    await symlink(target, link);
    const config = await readDockerConfig(link);
    config.auths.h = encodeAuthEntry({ username: "u", password: "p" });
    await writeDockerConfig(config);
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readlink(link), target);
    assert.deepEqual(JSON.parse(await readFile(target, "utf8")), {
      psFormat: "mine",
      auths: { h: { auth: b64("u:p") } },
    });
    assert.equal((await stat(target)).mode & 0o777, 0o600);
  });
});

describe("entries", () => {
  test("server keys as docker converts them to hosts", () => {
    const table: [string, string][] = [
      ["host:5000", "host:5000"],
      ["https://host:5000/v2/", "host:5000"],
      ["http://host", "host"],
      [INDEX_SERVER, "index.docker.io"],
    ];
    for (const [key, host] of table) assert.equal(hostnameOf(key), host, key);
    assert.equal(serverKey("docker.io"), INDEX_SERVER);
    assert.equal(serverKey("ghcr.io"), "ghcr.io");
  });

  test("an entry is found under its key, or under any key naming the same host; Docker Hub by any of its names", () => {
    const auths: Record<string, AuthEntry> = {
      "https://registry.example:5000/v2/": { auth: b64("url:key") },
      "registry-1.docker.io": { auth: b64("hub:pw") },
      exact: { auth: b64("e:x") },
      broken: "not an object" as unknown as AuthEntry,
    };
    assert.equal(findAuthEntry(auths, "exact")?.key, "exact");
    assert.equal(findAuthEntry(auths, "registry.example:5000")?.key, "https://registry.example:5000/v2/");
    assert.equal(findAuthEntry(auths, INDEX_SERVER)?.key, "registry-1.docker.io");
    assert.equal(findAuthEntry(auths, "broken"), undefined);
    assert.equal(findAuthEntry(auths, "other.example"), undefined);
  });

  test("decoding: auth wins over username/password; identity tokens kept; nothing usable is undefined", () => {
    const table: [AuthEntry, ReturnType<typeof decodeAuthEntry>][] = [
      [{ auth: b64("u:p:with:colons") }, { username: "u", password: "p:with:colons" }],
      [
        { auth: b64("u:p"), username: "x", password: "y" },
        { username: "u", password: "p" },
      ],
      [
        { username: "x", password: "y" },
        { username: "x", password: "y" },
      ],
      [{ identitytoken: "refresh" }, { username: "", password: "", identityToken: "refresh" }],
      [
        { auth: b64("u:"), identitytoken: "t" },
        { username: "u", password: "", identityToken: "t" },
      ],
      [{ auth: b64("no-colon") }, undefined],
      [{}, undefined],
      [{ auth: "" }, undefined],
    ];
    for (const [entry, expected] of table)
      assert.deepEqual(decodeAuthEntry(entry), expected, JSON.stringify(entry));
  });

  test("encoding is docker's: auth = base64(user:password), identitytoken alone when that is all", () => {
    assert.deepEqual(encodeAuthEntry({ username: "u", password: "p" }), { auth: b64("u:p") });
    assert.deepEqual(encodeAuthEntry({ username: "", password: "", identityToken: "t" }), {
      identitytoken: "t",
    });
    const round = { username: "ü ser", password: "pä:ss" };
    assert.deepEqual(decodeAuthEntry(encodeAuthEntry(round)), round);
  });
});
