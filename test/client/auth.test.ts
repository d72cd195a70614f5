import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { fixtureLayout } from "../helpers/fixtures.js";
import { type Server as Proc, runOk, startBerthRegistry } from "../helpers/processes.js";
import { berthOk, tempRoot } from "./berth.js";

/**
 * A registry front that speaks Docker's token protocol for anonymous pulls: 401 with a Bearer
 * challenge, a token endpoint that hands out a token for the requested scope, and the registry
 * behind it answering only requests that carry that token.
 */
let reg: Proc;
let front: Server;
let host: string;
const tokenRequests: { scope: string | null; service: string | null; authorization?: string }[] = [];
const TOKEN = "anonymous-pull-token";

before(async () => {
  reg = await startBerthRegistry();
  await runOk("skopeo", [
    "copy",
    "--insecure-policy",
    "--dest-tls-verify=false",
    `oci:${fixtureLayout()}:busybox-1`,
    `docker://${reg.host}/fx/busybox-1:v1`,
  ]);
  const [targetHost, targetPort] = reg.host.split(":");
  front = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://front");
    if (url.pathname === "/token") {
      tokenRequests.push({
        scope: url.searchParams.get("scope"),
        service: url.searchParams.get("service"),
        authorization: req.headers.authorization,
      });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      const scope = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(url.pathname)?.[1];
      res.writeHead(401, {
        "Content-Type": "application/json",
        "WWW-Authenticate": `Bearer realm="http://${host}/token",service="berth-test"${scope ? `,scope="repository:${scope}:pull"` : ""}`,
      });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    const up = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(front.address() as AddressInfo).port}`;
});

after(async () => {
  front.closeAllConnections();
  await new Promise<void>((resolve) => front.close(() => resolve()));
  await reg.stop();
});

test("pull answers a Bearer challenge with an anonymous token for the repository's pull scope", async () => {
  const root = await tempRoot();
  const r = await berthOk(root, ["pull", `${host}/fx/busybox-1:v1`]);
  assert.match(r.stdout, /Status: Downloaded newer image/);
  assert.ok(tokenRequests.length >= 1);
  for (const t of tokenRequests) {
    assert.equal(t.service, "berth-test");
    assert.equal(t.scope, "repository:fx/busybox-1:pull");
    assert.equal(t.authorization, undefined, "anonymous: no credentials sent to the token service");
  }
  // Tokens are cached per scope: one per process, not one per request.
  assert.equal(tokenRequests.length, 1);
});
