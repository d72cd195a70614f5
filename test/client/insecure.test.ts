import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fixtureLayout } from "../helpers/fixtures.js";
import { runOk, type Server, startDistribution, tempDir } from "../helpers/processes.js";
import { berth, tempRoot } from "./berth.js";

/**
 * `insecureRegistries` as Docker's insecure-registries: HTTPS without checking the
 * certificate first, plain HTTP when HTTPS cannot be spoken. Debian's docker-registry serves
 * HTTPS with a certificate nobody trusts, or plain HTTP.
 */
let https: Server;
let plain: Server;

before(async () => {
  const dir = await tempDir("berth-insecure-");
  const key = join(dir, "key.pem");
  const certificate = join(dir, "cert.pem");
  await runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    key,
    "-out",
    certificate,
    "-days",
    "1",
    "-subj",
    "/CN=nobody-trusts-this",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  https = await startDistribution({ tls: { certificate, key } });
  plain = await startDistribution();
  for (const reg of [https, plain]) {
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      "--dest-tls-verify=false",
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/fx/busybox-1:v1`,
    ]);
  }
});

after(async () => {
  await https?.stop();
  await plain?.stop();
});

async function storeTrusting(...registries: string[]): Promise<string> {
  const root = await tempRoot();
  await writeFile(
    join(root, "config.yaml"),
    `insecureRegistries: [${registries.map((r) => `"${r}"`).join(", ")}]\n`,
  );
  return root;
}

describe("insecure registries", () => {
  test("an HTTPS-only registry on loopback is not reached until it is listed; then its certificate is not checked", async () => {
    const refused = await berth(await tempRoot(), ["pull", "-q", `${https.host}/fx/busybox-1:v1`]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^Error: manifest \S+: 400 Bad Request: Client sent an HTTP request to an HTTPS server\.$/m,
    );

    const pulled = await berth(await storeTrusting(https.host), [
      "pull",
      "-q",
      `${https.host}/fx/busybox-1:v1`,
    ]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout.trim(), `${https.host}/fx/busybox-1:v1`);
  });

  test("a plain-HTTP registry that is listed: the HTTPS try fails, plain HTTP is used", async () => {
    const root = await storeTrusting(plain.host);
    const pulled = await berth(root, ["pull", "-q", `${plain.host}/fx/busybox-1:v1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const tags = await berth(root, ["tags", `${plain.host}/fx/busybox-1`]);
    assert.equal(tags.stdout, "v1\n", tags.stderr);
  });
});
