import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import bcrypt from "bcryptjs";
import { fixtureLayout, fixtureManifest } from "../helpers/fixtures.js";
import {
  run,
  runOk,
  type Server,
  startBerthRegistry,
  startDistribution,
  tempDir,
} from "../helpers/processes.js";

const ISSUER = "berth-test-issuer";
const DISTRIBUTION_SERVICE = "cncf-distribution";
const USERS = { alice: "alice-secret", bob: "bob-secret" };

/** An EC P-256 key and a self-signed certificate for it, as a token service's signing pair. */
async function signingPair(dir: string, name: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  await runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
  ]);
  return { key, cert };
}

/** Berth's registry as a token service: alice may do anything under team/, bob may only pull. */
function tokenConfig(htpasswd: string, token: { key: string; certificate?: string }) {
  return {
    auth: {
      type: "token",
      htpasswd,
      access: [
        { repositories: ["team/**"], users: ["alice"], actions: ["*"] },
        { repositories: ["team/**"], users: ["bob"], actions: ["pull"] },
      ],
      token: {
        service: "berth",
        issuer: ISSUER,
        audiences: [DISTRIBUTION_SERVICE],
        expiration: "5m",
        ...token,
      },
    },
  };
}

async function fetchToken(
  berth: Server,
  user: keyof typeof USERS,
  scope: string,
  service = DISTRIBUTION_SERVICE,
): Promise<string> {
  const url = `${berth.url}/token?service=${service}&scope=${encodeURIComponent(scope)}`;
  const basic = Buffer.from(`${user}:${USERS[user]}`).toString("base64");
  const res = await fetch(url, { headers: { Authorization: `Basic ${basic}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as Record<string, unknown>;
}

function sha256(data: string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

describe("Berth's token service in front of CNCF distribution (docker-registry 2.8)", () => {
  let berth: Server;
  let dist: Server;
  let dir: string;
  let htpasswd: string;
  let pair: { key: string; cert: string };
  const fixture = fixtureManifest().find((f) => f.tag === "busybox-1")!;
  const image = () => `docker://${dist.host}/team/busybox:1`;

  before(async () => {
    dir = await tempDir("berth-token-interop-");
    htpasswd = join(dir, "htpasswd");
    await writeFile(
      htpasswd,
      Object.entries(USERS)
        .map(([user, password]) => `${user}:${bcrypt.hashSync(password, 6)}\n`)
        .join(""),
    );
    pair = await signingPair(dir, "berth-token");
    berth = await startBerthRegistry({
      config: tokenConfig(htpasswd, { key: pair.key, certificate: pair.cert }),
    });
    dist = await startDistribution({
      extraConfig: [
        "auth:",
        "  token:",
        `    realm: ${berth.url}/token`,
        `    service: ${DISTRIBUTION_SERVICE}`,
        `    issuer: ${ISSUER}`,
        `    rootcertbundle: ${pair.cert}`,
      ].join("\n"),
    });
  });
  after(async () => {
    await dist.stop();
    await berth.stop();
  });

  test("distribution sends clients to Berth's token endpoint", async () => {
    const res = await fetch(`${dist.url}/v2/`);
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get("www-authenticate"),
      `Bearer realm="${berth.url}/token",service="${DISTRIBUTION_SERVICE}"`,
    );
  });

  test("skopeo pushes with a user the rules allow: distribution accepts Berth's token", async () => {
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      "--all",
      "--dest-tls-verify=false",
      "--dest-creds",
      `alice:${USERS.alice}`,
      `oci:${fixtureLayout()}:busybox-1`,
      image(),
    ]);
    const raw = await runOk("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      `bob:${USERS.bob}`,
      image(),
    ]);
    assert.equal(sha256(raw.stdout), fixture.digest, "bob pulls what alice pushed");
  });

  test("pushing without credentials, with a wrong password or as a pull-only user fails", async () => {
    // distribution's "denied" is its answer to a valid token that lacks the push grant.
    const denied = /denied: requested access to the resource is denied/;
    const attempts: [string, string[], RegExp][] = [
      ["anonymous", [], denied],
      ["wrong password", ["--dest-creds", "alice:not-her-password"], /invalid username or password/],
      ["bob (pull only)", ["--dest-creds", `bob:${USERS.bob}`], denied],
    ];
    for (const [who, creds, reason] of attempts) {
      const r = await run("skopeo", [
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        ...creds,
        `oci:${fixtureLayout()}:busybox-1`,
        `docker://${dist.host}/team/refused:1`,
      ]);
      assert.notEqual(r.code, 0, `${who} must not push`);
      assert.match(r.stderr, reason, who);
    }
    const tags = await fetch(`${dist.url}/v2/team/refused/tags/list`, {
      headers: {
        Authorization: `Bearer ${await fetchToken(berth, "alice", "repository:team/refused:pull")}`,
      },
    });
    assert.equal(tags.status, 404, "nothing was pushed");
    await tags.arrayBuffer();
  });

  test("a token identified by kid alone is accepted; one from an untrusted key or for another audience is not", async () => {
    const other = await signingPair(dir, "untrusted");
    // Without a certificate Berth's tokens carry no x5c: distribution must find the key by its libtrust kid.
    const [kidOnly, untrusted] = await Promise.all([
      startBerthRegistry({ config: tokenConfig(htpasswd, { key: pair.key }) }),
      startBerthRegistry({ config: tokenConfig(htpasswd, { key: other.key }) }),
    ]);
    try {
      const scope = "repository:team/busybox:pull";
      const good = await fetchToken(kidOnly, "bob", scope);
      assert.equal(jwtHeader(good).x5c, undefined);
      assert.equal(typeof jwtHeader(good).kid, "string");
      const ok = await fetch(`${dist.url}/v2/team/busybox/tags/list`, {
        headers: { Authorization: `Bearer ${good}` },
      });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { name: "team/busybox", tags: ["1"] });

      const refusedTokens = [
        ["signed by an untrusted key", await fetchToken(untrusted, "bob", scope)],
        ["issued for Berth's own service", await fetchToken(kidOnly, "bob", scope, "berth")],
      ];
      for (const [what, token] of refusedTokens) {
        const refused = await fetch(`${dist.url}/v2/team/busybox/tags/list`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        await refused.arrayBuffer();
        assert.equal(refused.status, 401, what);
        assert.match(refused.headers.get("www-authenticate") ?? "", /error="invalid_token"/, what);
      }
    } finally {
      await Promise.all([kidOnly.stop(), untrusted.stop()]);
    }
  });
});
