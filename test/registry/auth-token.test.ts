import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportJWK, SignJWT } from "jose";
import { fixtureLayout } from "../helpers/fixtures.js";
import { run, type Server, skopeo, startBerthRegistry, tempDir } from "../helpers/processes.js";
import { call, errorCode, type RawResponse } from "./api-client.js";
import { ACCESS, basic, PASSWORDS, writeHtpasswd } from "./auth-helpers.js";

// Docker's token protocol: Berth's /token endpoint issues JWTs that Berth's registry verifies.
describe("registry auth: token mode", () => {
  let reg: Server;
  let serverKey: KeyObject;
  let realm: string;

  async function token(scope: string[], headers: Record<string, string> = {}, service = "berth-test") {
    const query = new URLSearchParams({ service });
    for (const s of scope) query.append("scope", s);
    const res = await call(reg.url, "GET", `/token?${query}`, { headers });
    assert.equal(res.status, 200, res.body.toString());
    return res.json<{ token: string; access_token: string; expires_in: number; issued_at: string }>().token;
  }
  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
  const claims = (t: string) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString());
  const challenge = (res: RawResponse) => res.headers["www-authenticate"] ?? "";

  /** Signs a token in the test, with the server's own key unless told otherwise. */
  async function forge(payload: Record<string, unknown>, key: KeyObject = serverKey) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: "berth-test",
      aud: "berth-test",
      sub: "alice",
      iat: now,
      nbf: now,
      exp: now + 300,
      access: [{ type: "repository", name: "team/app", actions: ["pull", "push"] }],
      ...payload,
    })
      .setProtectedHeader({ alg: "ES256", typ: "JWT" })
      .sign(key);
  }

  before(async () => {
    reg = await startBerthRegistry({
      config: {
        auth: {
          type: "token",
          htpasswd: await writeHtpasswd(),
          ...ACCESS,
          token: { service: "berth-test", issuer: "berth-test", audiences: ["other-registry"] },
          rateLimit: { failures: 0 },
        },
      },
      extraArgs: ["--log-level", "debug"],
    });
    realm = `http://${reg.host}/token`;
    serverKey = createPrivateKey(await readFile(join(reg.root, "auth", "token.key")));
    const alice = `alice:${PASSWORDS.alice}`;
    await skopeo([
      "copy",
      "--dest-creds",
      alice,
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/team/app:1`,
    ]);
    await skopeo([
      "copy",
      "--dest-creds",
      alice,
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/public/busybox:1`,
    ]);
  });
  after(async () => {
    await reg.stop();
  });

  test("the generated key's certificate is kept under the root and logged for other registries", async () => {
    assert.ok(existsSync(join(reg.root, "auth", "token.crt")));
    assert.match(reg.logs(), /"certificate":"[^"]*token\.crt"/);
  });

  test("skopeo with --creds and with login: pull where allowed, push refused where not, anonymous pull under public/**", async () => {
    const bobPull = await skopeo([
      "inspect",
      "--creds",
      `bob:${PASSWORDS.bob}`,
      `docker://${reg.host}/team/app:1`,
    ]);
    assert.match(bobPull.stdout, /"Digest"/);
    const authfile = join(await tempDir("berth-authfile-"), "auth.json");
    await skopeo(["login", "--authfile", authfile, "-u", "bob", "-p", PASSWORDS.bob!, reg.host]);
    const bobPush = await run("skopeo", [
      "copy",
      "--insecure-policy",
      "--dest-tls-verify=false",
      "--authfile",
      authfile,
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/team/app:2`,
    ]);
    assert.notEqual(bobPush.code, 0);
    assert.match(bobPush.stderr, /denied|unauthorized/i);
    const viaAuthfile = await skopeo(["inspect", "--authfile", authfile, `docker://${reg.host}/team/app:1`]);
    assert.match(viaAuthfile.stdout, /"Digest"/);
    const anonPublic = await skopeo(["inspect", `docker://${reg.host}/public/busybox:1`]);
    assert.match(anonPublic.stdout, /"Digest"/);
    const anonTeam = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      `docker://${reg.host}/team/app:1`,
    ]);
    assert.notEqual(anonTeam.code, 0);
    assert.match(anonTeam.stderr, /unauthorized|authentication required|denied/i);
  });

  test("no token: 401 with the Bearer challenge naming realm, service and scope", async () => {
    const res = await call(reg.url, "GET", "/v2/team/app/tags/list");
    assert.equal(res.status, 401);
    assert.equal(errorCode(res), "UNAUTHORIZED");
    assert.equal(
      challenge(res),
      `Bearer realm="${realm}",service="berth-test",scope="repository:team/app:pull"`,
    );
    const upload = await call(reg.url, "POST", "/v2/team/app/blobs/uploads/");
    assert.match(challenge(upload), /scope="repository:team\/app:pull,push"/);
    const ping = await call(reg.url, "GET", "/v2/");
    assert.equal(challenge(ping), `Bearer realm="${realm}",service="berth-test"`);
  });

  test("the token endpoint grants the allowed part of each scope, an empty list where nothing is allowed", async () => {
    const t = await token(["repository:team/app:pull,push,delete", "repository:secret:pull"], basic("bob"));
    const c = claims(t);
    assert.equal(c.sub, "bob");
    assert.equal(c.aud, "berth-test");
    assert.equal(c.iss, "berth-test");
    assert.ok(c.exp > c.iat && typeof c.jti === "string");
    assert.deepEqual(c.access, [
      { type: "repository", name: "team/app", actions: ["pull"] },
      { type: "repository", name: "secret", actions: [] },
    ]);
    const header = JSON.parse(Buffer.from(t.split(".")[0]!, "base64url").toString());
    assert.equal(header.alg, "ES256");
    assert.match(header.kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    const anon = claims(await token(["repository:public/busybox:pull,push"]));
    assert.equal(anon.sub, "");
    assert.deepEqual(anon.access, [{ type: "repository", name: "public/busybox", actions: ["pull"] }]);
    const unknown = await call(reg.url, "GET", "/token?service=elsewhere&scope=repository:team/app:pull");
    assert.equal(unknown.status, 400);
  });

  test("a wrong password and an unknown user at /token get identical answers", async () => {
    const wrong = await call(reg.url, "GET", "/token?service=berth-test", {
      headers: basic("alice", "nope"),
    });
    const unknown = await call(reg.url, "GET", "/token?service=berth-test", {
      headers: basic("mallory", "nope"),
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual({ ...wrong.headers, date: "" }, { ...unknown.headers, date: "" });
    assert.ok(wrong.body.equals(unknown.body));
  });

  test("OAuth2 password grant by POST /token", async () => {
    const form = new URLSearchParams({
      grant_type: "password",
      username: "alice",
      password: PASSWORDS.alice!,
      service: "berth-test",
      scope: "repository:team/app:pull",
      client_id: "test",
    });
    const res = await call(reg.url, "POST", "/token", {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    assert.equal(res.status, 200);
    const body = res.json<{ access_token: string; scope: string }>();
    assert.equal(body.scope, "repository:team/app:pull");
    const tags = await call(reg.url, "GET", "/v2/team/app/tags/list", { headers: bearer(body.access_token) });
    assert.equal(tags.status, 200);
  });

  test("a named user's token lacking a decided action gets 403; a token for another repository 401", async () => {
    const bob = await token(["repository:team/app:pull,push"], basic("bob"));
    const push = await call(reg.url, "POST", "/v2/team/app/blobs/uploads/", { headers: bearer(bob) });
    assert.equal(push.status, 403);
    assert.equal(errorCode(push), "DENIED");
    assert.equal(
      (await call(reg.url, "GET", "/v2/team/app/tags/list", { headers: bearer(bob) })).status,
      200,
    );
    const alice = await token(["repository:team/app:pull,push"], basic("alice"));
    const other = await call(reg.url, "GET", "/v2/public/busybox/tags/list", { headers: bearer(alice) });
    assert.equal(other.status, 401);
    assert.match(challenge(other), /scope="repository:public\/busybox:pull",error="insufficient_scope"/);
  });

  test("forged, expired, re-signed, tampered, unsigned and misaddressed tokens are refused", async () => {
    const path = "/v2/team/app/tags/list";
    const refused = async (t: string, why: string) => {
      const res = await call(reg.url, "GET", path, { headers: bearer(t) });
      assert.equal(res.status, 401, why);
      assert.match(challenge(res), /error="invalid_token"/, why);
    };
    // Control: a token signed with the server's key and correct claims is accepted.
    assert.equal((await call(reg.url, "GET", path, { headers: bearer(await forge({})) })).status, 200);
    const now = Math.floor(Date.now() / 1000);
    await refused(await forge({ iat: now - 900, nbf: now - 900, exp: now - 600 }), "expired");
    await refused(await forge({ nbf: now + 600 }), "not yet valid");
    const { privateKey: otherKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    await refused(await forge({}, otherKey), "signed by another key");
    await refused(await forge({ aud: "other-registry" }), "wrong audience");
    await refused(await forge({ iss: "someone-else" }), "wrong issuer");
    // Tampered: carol's token (no access) with the access claim rewritten, signature kept.
    const carol = await token(["repository:team/app:pull"], basic("carol"));
    assert.deepEqual(claims(carol).access[0].actions, []);
    const [h, p, sig] = carol.split(".");
    const payload = { ...JSON.parse(Buffer.from(p!, "base64url").toString()) };
    payload.access = [{ type: "repository", name: "team/app", actions: ["pull"] }];
    await refused(`${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${sig}`, "tampered");
    // alg none: the same claims, unsigned.
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    await refused(`${none}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.`, "alg none");
    // A real token issued for another registry (an extra audience) is not valid here.
    const forOther = await token(["repository:team/app:pull"], basic("alice"), "other-registry");
    assert.equal(claims(forOther).aud, "other-registry");
    await refused(forOther, "token for another service");
  });

  test("header tricks are refused: an embedded jwk, RS256 or HS256 under the server's kid, no exp", async () => {
    const path = "/v2/team/app/tags/list";
    const kid = JSON.parse(Buffer.from((await token([])).split(".")[0]!, "base64url").toString()).kid;
    const now = Math.floor(Date.now() / 1000);
    const claimsOf = {
      iss: "berth-test",
      aud: "berth-test",
      sub: "alice",
      iat: now,
      exp: now + 300,
      access: [{ type: "repository", name: "team/app", actions: ["pull"] }],
    };
    const attacker = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const serverPublic = createPublicKey(serverKey);
    const attempts: [string, string][] = [
      [
        "jwk of the attacker's key in the header",
        await new SignJWT(claimsOf)
          .setProtectedHeader({ alg: "ES256", kid, jwk: await exportJWK(attacker.publicKey) })
          .sign(attacker.privateKey),
      ],
      [
        "RS256 with the server's kid",
        await new SignJWT(claimsOf).setProtectedHeader({ alg: "RS256", kid }).sign(rsa.privateKey),
      ],
      [
        "HS256 keyed with the server's public key (DER)",
        await new SignJWT(claimsOf)
          .setProtectedHeader({ alg: "HS256", kid })
          .sign(serverPublic.export({ type: "spki", format: "der" })),
      ],
      [
        "HS256 keyed with the server's public key (PEM)",
        await new SignJWT(claimsOf)
          .setProtectedHeader({ alg: "HS256", kid })
          .sign(Buffer.from(serverPublic.export({ type: "spki", format: "pem" }))),
      ],
      [
        "no exp",
        await new SignJWT({ ...claimsOf, exp: undefined })
          .setProtectedHeader({ alg: "ES256", kid })
          .sign(serverKey),
      ],
    ];
    for (const [why, t] of attempts) {
      const res = await call(reg.url, "GET", path, { headers: bearer(t) });
      assert.equal(res.status, 401, why);
      assert.match(challenge(res), /error="invalid_token"/, why);
    }
    // Control: the same claims with exp, signed by the server's key.
    const good = await new SignJWT(claimsOf).setProtectedHeader({ alg: "ES256", kid }).sign(serverKey);
    assert.equal((await call(reg.url, "GET", path, { headers: bearer(good) })).status, 200);
  });

  test("a refused push writes nothing, and a mount without pull on the source does not mount", async () => {
    const before = (
      await call(reg.url, "GET", "/v2/_catalog", {
        headers: bearer(await token(["registry:catalog:*"], basic("alice"))),
      })
    ).json();
    const carol = await token(["repository:secret:pull,push"], basic("carol"));
    const start = await call(reg.url, "POST", "/v2/secret/blobs/uploads/", { headers: bearer(carol) });
    assert.equal(start.status, 403);
    const manifest = await call(reg.url, "PUT", "/v2/secret/manifests/1", {
      headers: { ...bearer(carol), "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: "{}",
    });
    assert.equal(manifest.status, 403);
    assert.equal(existsSync(join(reg.root, "repositories", "secret")), false);
    const afterList = (
      await call(reg.url, "GET", "/v2/_catalog", {
        headers: bearer(await token(["registry:catalog:*"], basic("alice"))),
      })
    ).json();
    assert.deepEqual(afterList, before);

    const aliceRead = await token(["repository:team/app:pull"], basic("alice"));
    const m = await call(reg.url, "GET", "/v2/team/app/manifests/1", {
      headers: { ...bearer(aliceRead), Accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    const layer = m.json<{ layers: { digest: string }[] }>().layers[0]!.digest;
    const dave = await token(["repository:dave/x:pull,push", "repository:team/app:pull"], basic("dave"));
    const mount = await call(reg.url, "POST", `/v2/dave/x/blobs/uploads/?mount=${layer}&from=team/app`, {
      headers: bearer(dave),
    });
    assert.equal(mount.status, 202, "falls back to a new upload session");
    const leaked = await call(reg.url, "HEAD", `/v2/dave/x/blobs/${layer}`, { headers: bearer(dave) });
    assert.equal(leaked.status, 404);
  });

  test("_catalog and /v1/search list only what the token's subject may pull", async () => {
    const list = async (t: string) =>
      (await call(reg.url, "GET", "/v2/_catalog", { headers: bearer(t) })).json<{ repositories: string[] }>()
        .repositories;
    const anon = await token(["registry:catalog:*"]);
    assert.deepEqual(claims(anon).access, [{ type: "registry", name: "catalog", actions: ["*"] }]);
    assert.deepEqual(await list(anon), ["public/busybox"]);
    assert.deepEqual(await list(await token(["registry:catalog:*"], basic("bob"))), [
      "public/busybox",
      "team/app",
    ]);
    const noScope = await call(reg.url, "GET", "/v2/_catalog", {
      headers: bearer(await token([], basic("bob"))),
    });
    assert.equal(noScope.status, 401);
    assert.match(challenge(noScope), /scope="registry:catalog:\*"/);
    const search = await call(reg.url, "GET", "/v1/search?q=", { headers: bearer(anon) });
    assert.deepEqual(
      search.json<{ results: { name: string }[] }>().results.map((r) => r.name),
      ["public/busybox"],
    );
  });

  test("passwords and tokens never reach the log", async () => {
    const issued = await token(["repository:team/app:pull"], basic("alice"));
    await call(reg.url, "GET", "/v2/team/app/tags/list", { headers: bearer(issued) });
    const logs = reg.logs();
    assert.match(logs, /"msg":"request"/);
    for (const pw of Object.values(PASSWORDS)) assert.equal(logs.includes(pw), false);
    assert.equal(logs.includes(issued.split(".")[2]!), false);
    assert.equal(/authorization|eyJ/i.test(logs), false);
  });
});
