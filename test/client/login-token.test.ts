import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import bcrypt from "bcryptjs";
import { SignJWT } from "jose";
import { fixtureDir, fixtureLayout } from "../helpers/fixtures.js";
import { runOk, type Server, startBerthRegistry, startDistribution, tempDir } from "../helpers/processes.js";
import { berth, tempRoot } from "./berth.js";

/**
 * Docker's token protocol from the client side: docker-registry configured with `auth: token`
 * trusts a certificate made here, and a token realm served by this test records what each
 * request asks for and signs JWTs granting it. That shows which scopes pull, push and a
 * cross-repository mount ask for, and how login and identity tokens talk to the realm.
 */
const SERVICE = "berth-token-test";
const ISSUER = "berth-test-issuer";
const USER = "tok-user";
const PASSWORD = "tok-Pa55";
const REFRESH = "refresh-token-for-tok-user";

interface TokenRequest {
  method: string;
  scopes: string[];
  account: string | null;
  service: string | null;
  basicUser?: string;
  grantType?: string;
  offline: boolean;
}

let requests: TokenRequest[] = [];
/** The next token is signed by a key the registry does not trust, as a revoked token would be. */
let poisonNext = false;
const untrustedKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
let realm: HttpServer;
let reg: Server;
let host: string;
let privateKey: ReturnType<typeof createPrivateKey>;
let kid: string;

/** libtrust's key id, which distribution matches against the JWT's kid: base32 of a SHA-256 prefix. */
function libtrustKeyId(spkiDer: Buffer): string {
  const hash = createHash("sha256").update(spkiDer).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const byte of hash) bits += byte.toString(2).padStart(8, "0");
  let b32 = "";
  for (let i = 0; i < bits.length; i += 5) b32 += alphabet[Number.parseInt(bits.slice(i, i + 5), 2)];
  return b32.match(/.{4}/g)!.join(":");
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Grants what is asked to the user (password or refresh token); anonymous callers get nothing. */
async function answerToken(req: IncomingMessage): Promise<{ status: number; body: object }> {
  const url = new URL(req.url ?? "/", "http://realm");
  let scopes = url.searchParams.getAll("scope");
  let service = url.searchParams.get("service");
  let subject: string | undefined;
  const record: TokenRequest = {
    method: req.method ?? "",
    scopes,
    account: url.searchParams.get("account"),
    service,
    offline: url.searchParams.get("offline_token") === "true",
  };
  if (req.method === "POST") {
    const form = new URLSearchParams(await readBody(req));
    scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
    service = form.get("service");
    Object.assign(record, { scopes, service, grantType: form.get("grant_type") ?? undefined });
    if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== REFRESH) {
      requests.push(record);
      return { status: 401, body: { error: "invalid_grant" } };
    }
    subject = USER;
  } else if (req.headers.authorization) {
    const [user, password] = Buffer.from(req.headers.authorization.replace(/^Basic /, ""), "base64")
      .toString("utf8")
      .split(":");
    record.basicUser = user;
    if (user !== USER || password !== PASSWORD) {
      requests.push(record);
      return { status: 401, body: { details: "incorrect username or password" } };
    }
    subject = USER;
  }
  requests.push(record);
  const access = subject
    ? scopes.map((s) => {
        const [type, name, actions] = s.split(":");
        return { type, name, actions: (actions ?? "").split(",") };
      })
    : [];
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ access })
    .setProtectedHeader({ alg: "ES256", typ: "JWT", kid })
    .setIssuer(ISSUER)
    .setSubject(subject ?? "")
    .setAudience(service ?? "")
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(poisonNext ? untrustedKey : privateKey);
  poisonNext = false;
  const body: Record<string, unknown> = { token, access_token: token, expires_in: 300 };
  if (record.offline && subject) body.refresh_token = REFRESH;
  return { status: 200, body };
}

before(async () => {
  const dir = await tempDir("berth-token-");
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  await runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "1",
    "-subj",
    "/CN=berth-token-test",
  ]);
  privateKey = createPrivateKey(readFileSync(keyFile));
  kid = libtrustKeyId(createPublicKey(privateKey).export({ type: "spki", format: "der" }));
  realm = createServer((req, res) => {
    answerToken(req).then(
      ({ status, body }) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      },
      (err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      },
    );
  });
  await new Promise<void>((resolve) => realm.listen(0, "127.0.0.1", resolve));
  const realmUrl = `http://127.0.0.1:${(realm.address() as AddressInfo).port}/token`;
  reg = await startDistribution({
    extraConfig: [
      "auth:",
      "  token:",
      `    realm: ${realmUrl}`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${certFile}`,
    ].join("\n"),
  });
  host = reg.host;
  const h = await freshHome();
  await writeLogin(h, { auth: basicAuth(USER, PASSWORD) });
  const authfile = join(h.dockerConfig, "config.json");
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    "--dest-tls-verify=false",
    "--dest-authfile",
    authfile,
    `oci:${fixtureLayout()}:busybox-1`,
    `docker://${host}/fx/busybox-1:v1`,
  ]);
});

after(async () => {
  await reg.stop();
  realm.closeAllConnections();
  await new Promise<void>((resolve) => realm.close(() => resolve()));
});

beforeEach(() => {
  requests = [];
  poisonNext = false;
});

const basicAuth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64");

interface Home {
  dockerConfig: string;
  env: NodeJS.ProcessEnv;
}

async function freshHome(): Promise<Home> {
  const home = await tempDir("berth-home-");
  const dockerConfig = join(home, "docker-config");
  return {
    dockerConfig,
    env: {
      HOME: home,
      DOCKER_CONFIG: dockerConfig,
      REGISTRY_AUTH_FILE: undefined,
      XDG_RUNTIME_DIR: undefined,
    },
  };
}

async function writeLogin(h: Home, entry: object): Promise<void> {
  await mkdir(h.dockerConfig, { recursive: true });
  await writeFile(join(h.dockerConfig, "config.json"), JSON.stringify({ auths: { [host]: entry } }));
}

async function bOk(root: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const r = await berth(root, args, { env, input });
  assert.equal(r.code, 0, `berth ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r;
}

/** The distinct scope sets the realm was asked for, each sorted and joined by spaces. */
function scopeSets(): Set<string> {
  return new Set(requests.map((r) => [...r.scopes].sort().join(" ")));
}

describe("scopes asked of the token service", () => {
  test("pull asks repository:NAME:pull with the account, once per process", async () => {
    const h = await freshHome();
    await writeLogin(h, { auth: basicAuth(USER, PASSWORD) });
    await bOk(await tempRoot(), ["pull", `${host}/fx/busybox-1:v1`], h.env);
    assert.deepEqual(scopeSets(), new Set(["repository:fx/busybox-1:pull"]));
    assert.equal(requests.length, 1, "the token is cached for the scope set");
    assert.equal(requests[0]!.method, "GET");
    assert.equal(requests[0]!.account, USER);
    assert.equal(requests[0]!.basicUser, USER);
    assert.equal(requests[0]!.service, SERVICE);
  });

  test("push asks repository:NAME:pull,push; a mount asks the source's pull in the same request", async () => {
    const h = await freshHome();
    await writeLogin(h, { auth: basicAuth(USER, PASSWORD) });
    const root = await tempRoot();
    await bOk(root, ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
    await bOk(root, ["tag", `${host}/fx/busybox-1:v1`, `${host}/scoped/pushed:v1`], h.env);
    requests = [];
    await bOk(root, ["push", `${host}/scoped/pushed:v1`], h.env);
    const pushSets = scopeSets();
    assert.ok(pushSets.has("repository:scoped/pushed:pull,push"), [...pushSets].join(" | "));
    // The pulled blobs are known in fx/busybox-1, so push mounts them from there.
    assert.ok(
      pushSets.has("repository:fx/busybox-1:pull repository:scoped/pushed:pull,push"),
      `a mount's token request names both repositories: ${[...pushSets].join(" | ")}`,
    );
    for (const set of pushSets) {
      assert.ok(
        ["repository:scoped/pushed:pull", "repository:scoped/pushed:pull,push"].includes(set) ||
          set === "repository:fx/busybox-1:pull repository:scoped/pushed:pull,push",
        `unexpected scope set ${set}`,
      );
    }

    requests = [];
    await bOk(root, ["copy", `${host}/fx/busybox-1:v1`, `${host}/scoped/copied:v1`], h.env);
    assert.ok(scopeSets().has("repository:fx/busybox-1:pull repository:scoped/copied:pull,push"));
    assert.ok(scopeSets().has("repository:fx/busybox-1:pull"));
  });

  test("a token the registry calls invalid_token is fetched again, once", async () => {
    const h = await freshHome();
    await writeLogin(h, { auth: basicAuth(USER, PASSWORD) });
    poisonNext = true;
    const r = await bOk(await tempRoot(), ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
    assert.equal(r.stdout.trim(), `${host}/fx/busybox-1:v1`);
    assert.equal(requests.length, 2, "the rejected token was replaced, and the new one cached");
    assert.deepEqual(scopeSets(), new Set(["repository:fx/busybox-1:pull"]));
  });

  test("anonymous tokens carry no account; a refusal is a clear unauthorized error", async () => {
    const h = await freshHome();
    const r = await berth(await tempRoot(), ["pull", `${host}/fx/busybox-1:v1`], { env: h.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unauthorized: .*no credentials are stored for/);
    assert.ok(requests.length >= 1);
    for (const req of requests) {
      assert.equal(req.account, null);
      assert.equal(req.basicUser, undefined);
    }
  });

  test("wrong stored credentials are refused by the realm with its message", async () => {
    const h = await freshHome();
    await writeLogin(h, { auth: basicAuth(USER, "not-it") });
    const r = await berth(await tempRoot(), ["pull", `${host}/fx/busybox-1:v1`], { env: h.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unauthorized: incorrect username or password/);
    assert.ok(!r.stderr.includes("not-it"));
  });
});

describe("login through a token service", () => {
  test("login asks the realm for an offline token and keeps the refresh token as identitytoken", async () => {
    const h = await freshHome();
    const root = await tempRoot();
    const bad = await berth(root, ["login", host, "-u", USER, "--password-stdin"], {
      env: h.env,
      input: "x",
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: .*unauthorized: incorrect username or password/m);

    const login = await bOk(root, ["login", host, "-u", USER, "--password-stdin"], h.env, PASSWORD);
    assert.equal(login.stdout, "Login Succeeded\n");
    const tokenLogin = requests.find((r) => r.basicUser === USER && r.offline);
    assert.ok(tokenLogin, "the login's token request carries the account and offline_token");
    assert.equal(tokenLogin.account, USER);
    const config = JSON.parse(await readFile(join(h.dockerConfig, "config.json"), "utf8")) as {
      auths: Record<string, { auth?: string; identitytoken?: string }>;
    };
    assert.equal(config.auths[host]!.identitytoken, REFRESH);
    assert.ok(!JSON.stringify(config).includes(PASSWORD), "the password is not kept once a token is");

    requests = [];
    await bOk(root, ["pull", "-q", `${host}/fx/busybox-1:v1`], h.env);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.method, "POST", "an identity token goes in an OAuth2 POST");
    assert.equal(requests[0]!.grantType, "refresh_token");
    assert.deepEqual(requests[0]!.scopes, ["repository:fx/busybox-1:pull"]);
    assert.equal(requests[0]!.service, SERVICE);
  });
});

describe("Berth's own registry in token mode", () => {
  test("login, push and pull through Berth's token service; a pull-only user cannot push", async () => {
    const dir = await tempDir("berth-token-mode-");
    const htpasswd = join(dir, "htpasswd");
    await writeFile(
      htpasswd,
      `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\nreader:${bcrypt.hashSync("read-pw", 5)}\n`,
    );
    const berthReg = await startBerthRegistry({
      config: {
        auth: {
          type: "token",
          htpasswd,
          access: [
            { repositories: ["**"], users: [USER], actions: ["*"] },
            { repositories: ["**"], users: ["reader"], actions: ["pull"] },
          ],
        },
      },
    });
    try {
      const h = await freshHome();
      const root = await tempRoot();
      const target = `${berthReg.host}/mine/busybox:v1`;
      const bad = await berth(root, ["login", berthReg.host, "-u", USER, "--password-stdin"], {
        env: h.env,
        input: "wrong",
      });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^Error response from daemon: .*unauthorized/m);
      await bOk(root, ["login", berthReg.host, "-u", USER, "--password-stdin"], h.env, PASSWORD);
      await bOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")], h.env);
      const loaded = (await bOk(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"], h.env)).stdout
        .trim()
        .split("\n")[0]!;
      await bOk(root, ["tag", loaded, target], h.env);
      await bOk(root, ["push", target], h.env);
      const other = await tempRoot();
      await bOk(other, ["pull", "-q", target], h.env);

      const reader = await freshHome();
      await bOk(root, ["login", berthReg.host, "-u", "reader", "--password-stdin"], reader.env, "read-pw");
      await bOk(await tempRoot(), ["pull", "-q", target], reader.env);
      await bOk(root, ["tag", loaded, `${berthReg.host}/mine/busybox:v2`], reader.env);
      const push = await berth(root, ["push", `${berthReg.host}/mine/busybox:v2`], { env: reader.env });
      assert.equal(push.code, 1);
      assert.match(push.stderr, /^Error: (unauthorized|denied): /m, push.stderr);
    } finally {
      await berthReg.stop();
    }
  });
});
