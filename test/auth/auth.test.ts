import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import bcrypt from "bcryptjs";
import { AccessPolicy, compileGlob } from "../../src/auth/access.js";
import { AuthFileError, GlobError, InvalidTokenError, ScopeError } from "../../src/auth/errors.js";
import { Htpasswd } from "../../src/auth/htpasswd.js";
import { ensureGeneratedKey, loadSigningKey } from "../../src/auth/keys.js";
import { clientKey, FailedLoginLimiter } from "../../src/auth/rate-limit.js";
import { formatScope, parseScope, parseScopes } from "../../src/auth/scope.js";
import { issueToken, verifyToken } from "../../src/auth/tokens.js";
import { ConfigError, mergeConfig } from "../../src/registry/config.js";
import { runOk, tempDir } from "../helpers/processes.js";

describe("htpasswd", () => {
  test("bcrypt entries ($2y$ as htpasswd -B writes, $2a$, $2b$) verify; unknown users do not", async () => {
    const h = (pw: string, prefix: string) => bcrypt.hashSync(pw, 4).replace(/^\$2b\$/, prefix);
    const file = await Htpasswd.parse(
      `# comment\nalice:${h("a-pw", "$2y$")}\nbob:${h("b-pw", "$2a$")}\n\ncarol:${h("c-pw", "$2b$")}\n`,
    );
    assert.equal(file.size, 3);
    assert.equal(await file.verify("alice", "a-pw"), true);
    assert.equal(await file.verify("bob", "b-pw"), true);
    assert.equal(await file.verify("carol", "c-pw"), true);
    assert.equal(await file.verify("alice", "b-pw"), false);
    assert.equal(await file.verify("mallory", "a-pw"), false);
  });

  test("other hash kinds are refused at load, naming the line", async () => {
    for (const hash of ["$apr1$abc$def", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "plain", "$2y$05$short"]) {
      await assert.rejects(
        Htpasswd.parse(`alice:${bcrypt.hashSync("x", 4)}\nbob:${hash}\n`, "users.htpasswd"),
        (err: Error) =>
          err instanceof AuthFileError && /users\.htpasswd line 2: .*"bob".*htpasswd -B/.test(err.message),
      );
    }
  });
});

describe("scopes", () => {
  const cases: [string, object][] = [
    ["repository:team/app:pull,push", { type: "repository", name: "team/app", actions: ["pull", "push"] }],
    ["registry:catalog:*", { type: "registry", name: "catalog", actions: ["*"] }],
    [
      "repository(plugin):vieux/sshfs:pull",
      { type: "repository", class: "plugin", name: "vieux/sshfs", actions: ["pull"] },
    ],
    [
      "repository:localhost:5000/app:pull",
      { type: "repository", name: "localhost:5000/app", actions: ["pull"] },
    ],
    ["repository:app:", { type: "repository", name: "app", actions: [] }],
  ];
  for (const [text, expected] of cases) {
    test(`parses and formats ${text}`, () => {
      const scope = parseScope(text);
      assert.deepEqual(scope, expected);
      assert.equal(formatScope(scope), text);
    });
  }
  test("several scope parameters, and several scopes in one, merge by resource", () => {
    assert.deepEqual(parseScopes(["repository:a:pull repository:b:push", "repository:a:push"]), [
      { type: "repository", name: "a", actions: ["pull", "push"] },
      { type: "repository", name: "b", actions: ["push"] },
    ]);
  });
  test("malformed scopes are refused", () => {
    for (const bad of [
      "repository",
      "repository:app",
      "Repo:app:pull",
      "repository::pull",
      "repository:a:pu$h",
    ]) {
      assert.throws(() => parseScope(bad), ScopeError, bad);
    }
  });
});

describe("access policy", () => {
  test("globs: * within one component, ** across components", () => {
    const table: [string, string, boolean][] = [
      ["team/*", "team/app", true],
      ["team/*", "team/a/b", false],
      ["team/*", "team", false],
      ["shared/**", "shared/a/b/c", true],
      ["shared/**", "sharedx/a", false],
      ["*/app", "x/app", true],
      ["a.b", "axb", false],
      ["app", "app", true],
    ];
    for (const [glob, name, matches] of table)
      assert.equal(compileGlob(glob).test(name), matches, `${glob} ${name}`);
    for (const bad of ["", "/a", "a//b", "A/b", "a/***", "a/[bc]", "a?"])
      assert.throws(() => compileGlob(bad), GlobError, bad);
  });

  test("the union of matching rules is granted; groups, '*' users and anonymous pull", () => {
    const policy = new AccessPolicy({
      groups: { dev: ["bob"] },
      rules: [
        { repositories: ["team/**"], users: ["alice"], groups: [], anonymous: false, actions: ["pull"] },
        { repositories: ["team/app"], users: [], groups: ["dev"], anonymous: false, actions: ["push"] },
        { repositories: ["team/*"], users: ["alice"], groups: [], anonymous: false, actions: ["delete"] },
        { repositories: ["all/**"], users: ["*"], groups: [], anonymous: false, actions: ["*"] },
        { repositories: ["public/**"], users: [], groups: [], anonymous: true, actions: ["pull", "push"] },
      ],
    });
    assert.deepEqual([...policy.allowedActions("alice", "team/app")].sort(), ["delete", "pull"]);
    assert.deepEqual([...policy.allowedActions("bob", "team/app")], ["push"]);
    assert.deepEqual([...policy.allowedActions("carol", "all/x/y")].sort(), ["delete", "pull", "push"]);
    assert.deepEqual([...policy.allowedActions(undefined, "all/x")], []);
    assert.deepEqual(
      [...policy.allowedActions(undefined, "public/x")],
      ["pull"],
      "anonymous callers only pull",
    );
    assert.deepEqual([...policy.allowedActions("carol", "public/x")], ["pull"]);
    assert.equal(policy.admits(undefined), true);
  });

  test("names that are not repositories get nothing, though a glob's ** or * would match them", () => {
    const open = new AccessPolicy({ groups: {} });
    const ruled = new AccessPolicy({
      groups: {},
      rules: [
        { repositories: ["public/**", "team/*"], users: ["*"], groups: [], anonymous: true, actions: ["*"] },
        { repositories: ["**"], users: ["root"], groups: [], anonymous: false, actions: ["*"] },
      ],
    });
    for (const name of [
      "public/../team/app",
      "public/x/../../secret",
      "team/..",
      "public/./x",
      "host:5000/public/x",
    ]) {
      assert.equal(open.allowedActions("alice", name).size, 0, name);
      assert.equal(ruled.allowedActions("alice", name).size, 0, name);
      assert.equal(ruled.allowedActions(undefined, name).size, 0, name);
      assert.equal(ruled.allowedActions("root", name).size, 0, name);
    }
    assert.equal(ruled.allowedActions(undefined, "public/x").size, 1, "control");
  });

  test("without an access list: every authenticated user may do everything, anonymous callers nothing", () => {
    const policy = new AccessPolicy({ groups: {} });
    assert.deepEqual([...policy.allowedActions("anyone", "x")].sort(), ["delete", "pull", "push"]);
    assert.equal(policy.allowedActions(undefined, "x").size, 0);
    assert.equal(policy.admits(undefined), false);
  });

  test("the auth config is validated with clear messages", () => {
    const bad: [object, RegExp][] = [
      [{ type: "ldap" }, /auth\.type must be none, htpasswd or token/],
      [{ type: "htpasswd" }, /needs auth\.htpasswd/],
      [{ colour: 1 }, /unknown key "auth\.colour"/],
      [
        { access: [{ repositories: ["a/[b]"], users: ["x"], actions: ["pull"] }] },
        /auth\.access\[0\]\.repositories/,
      ],
      [
        { access: [{ repositories: ["a"], users: ["x"], actions: ["write"] }] },
        /"write" is not one of pull, push, delete/,
      ],
      [{ access: [{ repositories: ["a"], actions: ["pull"] }] }, /applies to nobody/],
      [{ access: [{ repositories: ["a"], groups: ["ops"], actions: ["pull"] }] }, /no group "ops"/],
      [
        { access: [{ repositories: ["a"], users: ["x"], actions: ["pull"], extra: 1 }] },
        /unknown key "auth\.access\[0\]\.extra"/,
      ],
      [{ token: { expiration: "soon" } }, /auth\.token\.expiration/],
      [{ token: { certificate: "c.pem" } }, /needs auth\.token\.key/],
      [{ rateLimit: { failures: -1 } }, /rateLimit\.failures/],
    ];
    for (const [auth, message] of bad)
      assert.throws(
        () => mergeConfig({ auth }),
        (err: Error) => err instanceof ConfigError && message.test(err.message),
        JSON.stringify(auth),
      );
    const ok = mergeConfig({ auth: { type: "token", token: { audiences: ["other"] } } }).auth;
    assert.equal(ok.token.service, "berth");
    assert.deepEqual(ok.token.audiences, ["other"]);
  });
});

describe("signing keys and tokens", () => {
  test("kid is libtrust's key ID, computed independently with openssl and coreutils base32", async () => {
    const dir = await tempDir("berth-keys-");
    const commands: Record<string, (out: string) => string[]> = {
      "ec.pem": (out) => ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", out],
      "rsa.pem": (out) => ["genrsa", "-out", out, "2048"],
    };
    for (const [name, args] of Object.entries(commands)) {
      const file = join(dir, name);
      await runOk("openssl", args(file));
      const spki = join(dir, `${name}.der`);
      await runOk("openssl", ["pkey", "-in", file, "-pubout", "-outform", "DER", "-out", spki]);
      const digest = join(dir, `${name}.sha`);
      await runOk("openssl", ["dgst", "-sha256", "-binary", "-out", digest, spki]);
      const { stdout } = await runOk("sh", ["-c", `head -c 30 "${digest}" | base32 -w0`]);
      const expected = stdout.trim().replace(/=+$/, "").match(/.{4}/g)!.join(":");
      const key = await loadSigningKey(file);
      assert.equal(key.kid, expected);
      assert.equal(key.alg, name === "ec.pem" ? "ES256" : "RS256");
    }
  });

  test("a generated key comes with a matching self-signed certificate, kept across calls", async () => {
    const dir = join(await tempDir("berth-genkey-"), "auth");
    const first = await ensureGeneratedKey(dir);
    assert.equal(first.created, true);
    const key = await loadSigningKey(first.keyFile, first.certFile);
    assert.equal(key.x5c?.length, 1);
    const again = await ensureGeneratedKey(dir);
    assert.equal(again.created, false);
    assert.equal((await loadSigningKey(again.keyFile)).kid, key.kid);
    const other = join(dir, "other.pem");
    await writeFile(
      other,
      generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({
        type: "pkcs8",
        format: "pem",
      }),
    );
    await assert.rejects(loadSigningKey(other, first.certFile), /is not the certificate of the key/);
  });

  test("issued tokens verify; wrong audience, issuer, key and expired ones do not", async () => {
    const dir = await tempDir("berth-tok-");
    const { keyFile } = await ensureGeneratedKey(dir);
    const key = await loadSigningKey(keyFile);
    const access = [{ type: "repository", name: "a", actions: ["pull"] }];
    const res = await issueToken(key, { issuer: "iss", expiresIn: 60 }, "alice", "svc", access);
    assert.equal(res.token, res.access_token);
    assert.equal(res.expires_in, 60);
    assert.match(res.issued_at, /^\d{4}-\d\d-\d\dT/);
    const ok = await verifyToken(key, res.token, { issuer: "iss", audience: "svc" });
    assert.equal(ok.subject, "alice");
    assert.deepEqual(ok.access, access);
    await assert.rejects(
      verifyToken(key, res.token, { issuer: "iss", audience: "other" }),
      InvalidTokenError,
    );
    await assert.rejects(
      verifyToken(key, res.token, { issuer: "other", audience: "svc" }),
      InvalidTokenError,
    );
    const rsa = join(dir, "rsa.pem");
    await runOk("openssl", ["genrsa", "-out", rsa, "2048"]);
    await assert.rejects(
      verifyToken(await loadSigningKey(rsa), res.token, { issuer: "iss", audience: "svc" }),
      InvalidTokenError,
    );
    const old = await issueToken(
      key,
      { issuer: "iss", expiresIn: 60 },
      "alice",
      "svc",
      access,
      Date.now() - 600_000,
    );
    await assert.rejects(verifyToken(key, old.token, { issuer: "iss", audience: "svc" }), /expired/);
  });
});

describe("failed-login limiter", () => {
  test("blocks after N failures within the window until the oldest leaves it", () => {
    let now = 1_000_000;
    const limiter = new FailedLoginLimiter(3, 10_000, () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.retryAfterMs("1.2.3.4"), 0);
      limiter.recordFailure("1.2.3.4");
      now += 1000;
    }
    assert.equal(limiter.retryAfterMs("1.2.3.4"), 7000);
    assert.equal(limiter.retryAfterMs("5.6.7.8"), 0, "per address");
    now += 7000;
    assert.equal(limiter.retryAfterMs("1.2.3.4"), 0);
    assert.equal(new FailedLoginLimiter(0, 1000).retryAfterMs("x"), 0, "0 disables");
  });

  test("failures count per IPv4 address and per IPv6 /64, whatever address the host takes in it", () => {
    const table: [string | undefined, string][] = [
      ["192.0.2.7", "192.0.2.7"],
      ["::ffff:192.0.2.7", "192.0.2.7"],
      ["::1", "0:0:0:0::/64"],
      ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
      ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
      ["2001:0DB8:0001:0002:0:0:0:9", "2001:db8:1:2::/64"],
      ["2001:db8::1", "2001:db8:0:0::/64"],
      ["2001:db8:0:0:1::", "2001:db8:0:0::/64"],
      ["fe80::1%eth0", "fe80:0:0:0::/64"],
      ["64:ff9b::192.0.2.7", "64:ff9b:0:0::/64"],
      [undefined, "unknown"],
    ];
    for (const [address, key] of table) assert.equal(clientKey(address), key, String(address));
    assert.notEqual(clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:3::1"));
  });

  test("a login counted as failed while its password is checked, then forgiven, leaves the other failures", () => {
    const now = 1_000_000;
    const limiter = new FailedLoginLimiter(2, 10_000, () => now);
    limiter.recordFailure("1.2.3.4");
    const inFlight = limiter.recordFailure("1.2.3.4");
    assert.ok(limiter.retryAfterMs("1.2.3.4") > 0, "the login being checked counts");
    limiter.forgive("1.2.3.4", inFlight);
    assert.equal(limiter.retryAfterMs("1.2.3.4"), 0);
    limiter.recordFailure("1.2.3.4");
    assert.equal(limiter.retryAfterMs("1.2.3.4"), 10_000, "the earlier failure was kept");
  });
});
