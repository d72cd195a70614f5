import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lookup } from "node:dns/promises";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as tlsConnect } from "node:tls";
import { isLoopbackAddress } from "../../src/registry/listener.js";
import { CertsDirError, loadCertsDirs } from "../../src/remote/tls-trust.js";
import { berth, tempRoot } from "../client/berth.js";
import { fixtureLayout, fixtureManifest, repoRoot } from "../helpers/fixtures.js";
import { run, runOk, type Server, startBerthRegistry, tempDir } from "../helpers/processes.js";

interface Pki {
  dir: string;
  /** A directory holding only ca.crt, as skopeo's --cert-dir and Docker's certs.d expect. */
  caDir: string;
  caCert: Buffer;
  cert: string;
  key: string;
  /** A second key pair's files, to misconfigure the server with. */
  otherKey: string;
}

/** A throwaway CA and a server certificate it signed for the given IP and DNS names, made by openssl. */
async function makePki(ips: string[], dnsNames: string[]): Promise<Pki> {
  const dir = await tempDir("berth-pki-");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const f = (name: string) => join(dir, name);
  await runOk("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=Berth test CA",
  ]);
  await runOk("openssl", [
    "req",
    ...ec,
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
    "-subj",
    "/CN=berth test server",
  ]);
  const san = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((n) => `DNS:${n}`)].join(",");
  await writeFile(f("ext.cnf"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  await runOk("openssl", [
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.crt"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    f("server.crt"),
    "-extfile",
    f("ext.cnf"),
  ]);
  await runOk("openssl", [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    f("other.key"),
  ]);
  const caDir = join(dir, "trust");
  await mkdir(caDir);
  const caCert = await readFile(f("ca.crt"));
  await writeFile(join(caDir, "ca.crt"), caCert);
  return { dir, caDir, caCert, cert: f("server.crt"), key: f("server.key"), otherKey: f("other.key") };
}

/** A local IPv4 address that is not loopback (eth0's, say): connections from it stay on this host. */
function nonLoopbackAddress(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

/** Sends raw bytes over a socket (plain or TLS) and collects everything until the server closes it. */
function exchange(socket: Socket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
    socket.write(request);
  });
}

function sha256(data: string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    sleep(ms, undefined, { ref: false }).then(() => Promise.reject(new Error(`not done within ${ms} ms`))),
  ]);
}

const GET_V2 = "GET /v2/ HTTP/1.1\r\nHost: registry\r\nConnection: close\r\n\r\n";

describe("Berth's registry with tls configured", () => {
  let pki: Pki;
  let reg: Server;
  let port: string;
  const fixture = fixtureManifest().find((f) => f.tag === "busybox-1")!;

  before(async () => {
    pki = await makePki(["127.0.0.1"], [hostname()]);
    reg = await startBerthRegistry({ config: { tls: { certificate: pki.cert, key: pki.key } } });
    port = reg.host.split(":")[1]!;
    assert.match(reg.logs(), /"tls":true[^\n]*"msg":"listening"/);
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      "--all",
      "--dest-cert-dir",
      pki.caDir,
      "--dest-tls-verify=true",
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/tls/busybox:1`,
    ]);
  });
  after(async () => {
    await reg.stop();
  });

  test("skopeo pushes and reads back over HTTPS verified against the CA", async () => {
    const raw = await runOk("skopeo", [
      "inspect",
      "--raw",
      "--cert-dir",
      pki.caDir,
      "--tls-verify=true",
      `docker://${reg.host}/tls/busybox:1`,
    ]);
    assert.equal(sha256(raw.stdout), fixture.digest);
  });

  test("a client that does not trust the CA is refused", async () => {
    const r = await run("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=true",
      `docker://${reg.host}/tls/busybox:1`,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /x509: certificate signed by unknown authority/);
  });

  test("plain HTTP from loopback is still served, with keep-alive", async () => {
    const first = await fetch(`http://${reg.host}/v2/tls/busybox/tags/list`);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { name: "tls/busybox", tags: ["1"] });
    const socket = netConnect(Number(port), "127.0.0.1");
    const twoAnswers = await exchange(
      socket,
      "GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: registry\r\nConnection: close\r\n\r\n",
    );
    assert.equal(twoAnswers.match(/HTTP\/1\.1 200 /g)?.length, 2, twoAnswers);
  });

  test("plain HTTP from a non-loopback address gets 400 and is closed; HTTPS from it is served", async (t) => {
    const local = nonLoopbackAddress();
    if (!local) {
      t.diagnostic("no non-loopback local address on this machine: only the address check is tested");
      assert.equal(isLoopbackAddress("192.0.2.2"), false);
      return;
    }
    const plain = netConnect({ host: "127.0.0.1", port: Number(port), localAddress: local });
    const refused = await exchange(plain, GET_V2);
    assert.match(refused, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(refused.endsWith("\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"), refused);

    const secure = tlsConnect({
      socket: netConnect({ host: "127.0.0.1", port: Number(port), localAddress: local }),
      host: "127.0.0.1",
      ca: pki.caCert,
      servername: "",
    });
    await new Promise<void>((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
    const answer = await exchange(secure, GET_V2);
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });

  test("berth pull over HTTPS trusts ROOT/certs.d/HOST:PORT/ca.crt", async () => {
    // The client talks plain HTTP to loopback names, so reach the registry by this host's name.
    const name = hostname();
    const resolved = await lookup(name, { family: 4 });
    let target = reg;
    if (resolved.address !== "127.0.0.1") {
      target = await startBerthRegistry({
        config: { tls: { certificate: pki.cert, key: pki.key } },
        extraArgs: ["--addr", `${resolved.address}:0`],
        root: reg.root,
      });
    }
    try {
      const registry = `${name}:${target.host.split(":")[1]}`;
      const untrusting = await tempRoot();
      const refused = await berth(untrusting, ["pull", `${registry}/tls/busybox:1`]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /certificate/i);

      const root = await tempRoot();
      await mkdir(join(root, "certs.d", registry), { recursive: true });
      await writeFile(join(root, "certs.d", registry, "ca.crt"), pki.caCert);
      const pulled = await berth(root, ["pull", `${registry}/tls/busybox:1`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stdout, new RegExp(`Digest: ${fixture.digest}`));
    } finally {
      if (target !== reg) await target.stop();
    }
  });
});

test("with token auth, the default realm clients are sent to is https when they came over TLS", async () => {
  const pki = await makePki(["127.0.0.1"], []);
  const reg = await startBerthRegistry({
    config: { tls: { certificate: pki.cert, key: pki.key }, auth: { type: "token" } },
  });
  try {
    const challenge = await new Promise<string | undefined>((resolve, reject) => {
      httpsGet(`https://${reg.host}/v2/`, { ca: pki.caCert }, (res) => {
        res.resume();
        resolve(res.headers["www-authenticate"]);
      }).on("error", reject);
    });
    assert.match(challenge ?? "", new RegExp(`^Bearer realm="https://${reg.host}/token"`));
    const plain = await fetch(`${reg.url}/v2/`);
    await plain.arrayBuffer();
    assert.match(
      plain.headers.get("www-authenticate") ?? "",
      new RegExp(`^Bearer realm="http://${reg.host}/token"`),
    );
  } finally {
    await reg.stop();
  }
});

test("SIGTERM with tls: idle connections of both kinds are closed, an in-flight HTTPS request finishes", async () => {
  const pki = await makePki(["127.0.0.1"], []);
  const reg = await startBerthRegistry({ config: { tls: { certificate: pki.cert, key: pki.key } } });
  const port = Number(reg.host.split(":")[1]);
  const idlePlain = netConnect(port, "127.0.0.1");
  const idlePlainClosed = exchange(idlePlain, "GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n");
  const idleTls = tlsConnect({ host: "127.0.0.1", port, ca: pki.caCert, servername: "" });
  const idleTlsClosed = exchange(idleTls, "GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n");

  const body = Buffer.alloc(256 * 1024, 7);
  const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  const busy = tlsConnect({ host: "127.0.0.1", port, ca: pki.caCert, servername: "" });
  await new Promise<void>((resolve, reject) => busy.once("secureConnect", resolve).once("error", reject));
  const busyAnswer = exchange(
    busy,
    `POST /v2/drain/blobs/uploads/?digest=${digest} HTTP/1.1\r\nHost: registry\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  busy.write(body.subarray(0, 1024));
  await sleep(200);
  reg.proc.kill("SIGTERM");
  // Both idle connections must close while the upload is still in flight, not after it.
  // The upload stays in flight until the rest of its body is written below: the limit only
  // guards against a hang, and is generous for a loaded machine.
  const [plainText, tlsText] = await within(60_000, Promise.all([idlePlainClosed, idleTlsClosed]));
  assert.match(plainText, /^HTTP\/1\.1 200 /, "the idle plain connection got its answer, then was closed");
  assert.match(tlsText, /^HTTP\/1\.1 200 /, "the idle TLS connection got its answer, then was closed");
  busy.write(body.subarray(1024));
  assert.match(await busyAnswer, /^HTTP\/1\.1 201 /);
  assert.equal(await reg.stop(), 0, reg.logs());
});

test("startup stops with a clear error for a missing file, a non-PEM file or a key of another certificate", async () => {
  const pki = await makePki(["127.0.0.1"], []);
  const root = await tempDir("berth-registry-");
  const cases: [object, RegExp][] = [
    [
      { certificate: join(pki.dir, "missing.crt"), key: pki.key },
      /cannot read tls\.certificate .*missing\.crt/,
    ],
    [
      { certificate: join(pki.dir, "ext.cnf"), key: pki.key },
      /tls\.certificate .*ext\.cnf holds no PEM certificate/,
    ],
    [
      { certificate: pki.cert, key: pki.otherKey },
      /tls\.key .*other\.key is not the private key of the certificate/,
    ],
    [{ certificate: pki.cert }, /tls\.key must name a PEM file/],
  ];
  for (const [tls, message] of cases) {
    const config = join(await tempDir("berth-config-"), "config.json");
    await writeFile(config, JSON.stringify({ tls }));
    const r = await run(process.execPath, [
      join(repoRoot(), "bin/berth.js"),
      "registry",
      "serve",
      "--addr",
      "127.0.0.1:0",
      "--root",
      root,
      "--config",
      config,
    ]);
    assert.equal(r.code, 1, `${JSON.stringify(tls)}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stdout, /"msg":"listening"/);
  }
});

test("loopback addresses are 127.0.0.0/8 and ::1, also IPv4-mapped", () => {
  const cases: [string | undefined, boolean][] = [
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["192.0.2.2", false],
    ["10.0.0.1", false],
    ["::ffff:10.0.0.1", false],
    ["fd00::2", false],
    ["128.0.0.1", false],
    [undefined, false],
  ];
  for (const [address, expected] of cases)
    assert.equal(isLoopbackAddress(address), expected, String(address));
});

test("certs.d: every *.crt of each directory is a CA; a client NAME.cert needs NAME.key", async () => {
  const [mine, docker] = [await tempDir("berth-certs-"), await tempDir("docker-certs-")];
  const registry = "registry.test:5000";
  await mkdir(join(mine, registry));
  await mkdir(join(docker, registry));
  await writeFile(join(mine, registry, "ca.crt"), "first CA");
  await writeFile(join(docker, registry, "other.crt"), "second CA");
  await writeFile(join(docker, registry, "client.cert"), "client cert");
  await writeFile(join(docker, registry, "client.key"), "client key");
  const trust = loadCertsDirs(registry, [mine, docker]);
  assert.deepEqual(
    trust?.ca.map((c) => c.toString()),
    ["first CA", "second CA"],
  );
  assert.equal(trust?.cert?.toString(), "client cert");
  assert.equal(trust?.key?.toString(), "client key");
  assert.equal(loadCertsDirs("elsewhere:5000", [mine, docker]), undefined);
  await writeFile(join(mine, registry, "lonely.cert"), "no key");
  assert.throws(() => loadCertsDirs(registry, [mine]), CertsDirError);
});
