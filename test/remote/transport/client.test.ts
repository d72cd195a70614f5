import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { NetworkError, RemoteError, TokenServiceError } from "../../../src/remote/errors.js";
import { createRegistryClient, type RegistryClientOptions } from "../../../src/remote/transport/client.js";
import { runOk, tempDir } from "../../helpers/processes.js";

/**
 * The client's layers against small real HTTP servers that misbehave on purpose: registries
 * that answer 401 forever, token services that hang, stall, fail once or answer too much,
 * challenges with odd quoting, and the scheme fallback of an insecure registry.
 */

interface Seen {
  method: string;
  path: string;
  authorization?: string;
  query: URLSearchParams;
}

interface TestServer {
  host: string;
  origin: string;
  seen: Seen[];
}

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function listen(
  server: Server,
  scheme: "http" | "https",
  handler: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void,
): Promise<TestServer> {
  const seen: Seen[] = [];
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const entry = {
      method: req.method ?? "",
      path: url.pathname,
      authorization: req.headers.authorization,
      query: url.searchParams,
    };
    seen.push(entry);
    handler(req, res, entry);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, origin: `${scheme}://${host}`, seen };
}

function serve(
  handler: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void,
): Promise<TestServer> {
  return listen(createServer(), "http", handler);
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function challenge401(res: ServerResponse, header: string): void {
  json(
    res,
    401,
    { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
    { "WWW-Authenticate": header },
  );
}

const FAST: RegistryClientOptions["retry"] = {
  download: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  upload: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
};

const tags = (name: string) => ({
  method: "GET" as const,
  path: `/v2/${name}/tags/list`,
  scope: { repository: name, actions: ["pull" as const] },
});

describe("a registry that answers 401 to everything", () => {
  test("Bearer: three requests and two token fetches, then an unauthorized error", async () => {
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") return json(res, 200, { token: `t${Math.random()}`, expires_in: 300 });
      challenge401(
        res,
        `Bearer realm="http://${req.headers.host}/token",service="loop",error="invalid_token"`,
      );
    });
    const client = createRegistryClient({ host: reg.host, retry: FAST });
    await assert.rejects(client.request(tags("a/b")), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.status, 401);
      assert.match(
        err.message,
        /^unauthorized: authentication required \(no credentials are stored for 127\.0\.0\.1:\d+; run "berth login 127\.0\.0\.1:\d+"\)$/,
      );
      return true;
    });
    assert.equal(reg.seen.filter((s) => s.path === "/v2/a/b/tags/list").length, 3);
    assert.equal(reg.seen.filter((s) => s.path === "/token").length, 2);
  });

  test("Bearer, asking for another scope every time: still bounded", async () => {
    let n = 0;
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") return json(res, 200, { token: "t", expires_in: 300 });
      n++;
      challenge401(
        res,
        `Bearer realm="http://${req.headers.host}/token",service="s",scope="registry:catalog:${n}"`,
      );
    });
    const client = createRegistryClient({ host: reg.host, retry: FAST });
    await assert.rejects(
      client.request({ method: "GET", path: "/v2/_catalog" }),
      /^RemoteError: unauthorized: /,
    );
    assert.ok(
      reg.seen.filter((s) => s.path === "/v2/_catalog").length <= 3,
      JSON.stringify(reg.seen.map((s) => s.path)),
    );
  });

  test("Basic with credentials: sent once, refused, final; the password is not in the message", async () => {
    const reg = await serve((_req, res) => challenge401(res, 'Basic realm="r"'));
    const client = createRegistryClient({
      host: reg.host,
      credentials: { username: "u", password: "hunter2" },
      retry: FAST,
    });
    await assert.rejects(client.request(tags("x")), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.match(err.message, /the credentials stored for 127\.0\.0\.1:\d+ were not accepted/);
      assert.ok(!err.message.includes("hunter2"));
      return true;
    });
    assert.deepEqual(
      reg.seen.map((s) => s.authorization),
      [undefined, `Basic ${Buffer.from("u:hunter2").toString("base64")}`],
    );
  });

  test("a 401 with an endless body is not read to its end", async () => {
    const reg = await serve((_req, res) => {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="r"', "Content-Type": "text/plain" });
      const chunk = Buffer.alloc(64 * 1024, "x");
      const pump = () => {
        while (res.write(chunk)) {}
      };
      res.on("drain", pump);
      pump();
    });
    const client = createRegistryClient({ host: reg.host, retry: FAST });
    await assert.rejects(client.request(tags("x")), /^RemoteError: unauthorized: authentication required/);
  });
});

describe("a token service that misbehaves", () => {
  test("one that hangs: each try times out, the error names the realm (not its query) and the tries", async () => {
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") return; // never answers
      challenge401(res, `Bearer realm="http://${req.headers.host}/token",service="s"`);
    });
    const client = createRegistryClient({
      host: reg.host,
      credentials: { username: "someone", password: "pw" },
      retry: FAST,
      timeouts: { headersMs: 300 },
    });
    await assert.rejects(client.request(tags("a")), (err: unknown) => {
      assert.ok(err instanceof NetworkError, String(err));
      assert.equal(
        err.message,
        `cannot reach ${reg.origin}/token (2 attempts): no answer within 0.3 s (UND_ERR_HEADERS_TIMEOUT)`,
      );
      return true;
    });
    assert.equal(reg.seen.filter((s) => s.path === "/token").length, 2);
  });

  test("one whose answer stalls half-way: retried, then a clear error", async () => {
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write('{"token":'); // and nothing more
        return;
      }
      challenge401(res, `Bearer realm="http://${req.headers.host}/token",service="s"`);
    });
    const client = createRegistryClient({ host: reg.host, retry: FAST, timeouts: { bodyMs: 300 } });
    await assert.rejects(
      client.request(tags("a")),
      /^NetworkError: cannot reach http:\/\/127\.0\.0\.1:\d+\/token \(2 attempts\): .*Body Timeout/,
    );
    assert.equal(reg.seen.filter((s) => s.path === "/token").length, 2);
  });

  test("one that fails once (503, then a reset connection) is asked again, like every request", async () => {
    let tokenCalls = 0;
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") {
        tokenCalls++;
        if (tokenCalls === 1) return json(res, 503, { error: "busy" }, { "Retry-After": "0" });
        if (tokenCalls === 2) return req.socket.destroy();
        return json(res, 200, { access_token: "good", expires_in: 300 });
      }
      if (seen.authorization === "Bearer good") return json(res, 200, { name: "a", tags: ["v1"] });
      challenge401(res, `Bearer realm="http://${req.headers.host}/token",service="s"`);
    });
    const client = createRegistryClient({
      host: reg.host,
      retry: { download: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } },
    });
    const { value } = await client.json<{ tags: string[] }>(tags("a"), "tags");
    assert.deepEqual(value.tags, ["v1"]);
    assert.equal(tokenCalls, 3);
  });

  test("one that answers more than a token ever is: not read past 1 MiB", async () => {
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(`{"token":"${"x".repeat(2 * 1024 * 1024)}"}`);
        return;
      }
      challenge401(res, `Bearer realm="http://${req.headers.host}/token",service="s"`);
    });
    const client = createRegistryClient({ host: reg.host, retry: FAST });
    await assert.rejects(client.request(tags("a")), (err: unknown) => {
      assert.ok(err instanceof TokenServiceError);
      assert.equal(err.message, `the token service at ${reg.origin}/token answered with more than 1 MiB`);
      return true;
    });
  });

  const bad: [string, string, unknown, RegExp][] = [
    ["a token that is not JSON", "", "<html>hi</html>", /answered with something that is not JSON$/],
    ["a token missing", "", { expires_in: 30 }, /answered without a token$/],
    [
      "a token with a line break",
      "",
      { token: "a\r\nX-Evil: 1" },
      /answered with a token that cannot be sent in a header$/,
    ],
    [
      "a realm that is not a URL",
      'Bearer realm="not a url",service="s"',
      null,
      /names a realm that is not a URL: "not a url"$/,
    ],
    [
      "a realm on another scheme",
      'Bearer realm="file:///etc/passwd"',
      null,
      /names a realm that is not an http\(s\) URL: file:$/,
    ],
    ["no realm at all", 'Bearer service="s"', null, /names no realm$/],
  ];
  for (const [what, header, answer, message] of bad) {
    test(`${what}: a clear error`, async () => {
      const reg = await serve((req, res, seen) => {
        if (seen.path === "/token") {
          res.writeHead(200, { "Content-Type": "application/json" });
          return res.end(typeof answer === "string" ? answer : JSON.stringify(answer));
        }
        challenge401(res, header || `Bearer realm="http://${req.headers.host}/token"`);
      });
      const client = createRegistryClient({ host: reg.host, retry: FAST });
      await assert.rejects(client.request(tags("a")), (err: unknown) => {
        assert.ok(err instanceof TokenServiceError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }
});

describe("answering challenges", () => {
  test("odd quoting: escapes undone, commas kept, an unquoted realm followed", async () => {
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") return json(res, 200, { token: "ok", expires_in: 300 });
      if (seen.authorization === "Bearer ok") return json(res, 200, { name: "a", tags: [] });
      challenge401(res, `Bearer realm=http://${req.headers.host}/token , SERVICE="reg \\"one\\", two"`);
    });
    const client = createRegistryClient({ host: reg.host, retry: FAST });
    await client.json(tags("a/b"), "tags");
    const token = reg.seen.find((s) => s.path === "/token")!;
    assert.equal(token.query.get("service"), 'reg "one", two');
    assert.deepEqual(token.query.getAll("scope"), ["repository:a/b:pull"]);
  });

  test("requests that start together share one token fetch; the token is then cached", async () => {
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") {
        setTimeout(() => json(res, 200, { token: "shared", expires_in: 300 }), 50);
        return;
      }
      if (seen.authorization === "Bearer shared") return json(res, 200, { name: "a", tags: [] });
      challenge401(res, `Bearer realm="http://${req.headers.host}/token",service="s"`);
    });
    const client = createRegistryClient({ host: reg.host, retry: FAST });
    await client.json(tags("a"), "tags");
    reg.seen.length = 0;
    const other = createRegistryClient({ host: reg.host, retry: FAST });
    await other.ping();
    await Promise.all(Array.from({ length: 8 }, () => other.json(tags("a"), "tags")));
    assert.equal(reg.seen.filter((s) => s.path === "/token").length, 1);
    await other.json(tags("a"), "tags");
    assert.equal(reg.seen.filter((s) => s.path === "/token").length, 1);
  });

  test("fixed credentials of the caller's own; a streamed body goes out authorised, once", async () => {
    const reg = await serve((req, res, seen) => {
      if (seen.path === "/token") {
        const basic = Buffer.from("robot:secret").toString("base64");
        if (seen.authorization !== `Basic ${basic}` || seen.query.get("account") !== "robot")
          return json(res, 401, { details: "who?" });
        return json(res, 200, { token: "push-token", expires_in: 300 });
      }
      if (seen.authorization !== "Bearer push-token") {
        req.resume();
        return challenge401(res, `Bearer realm="http://${req.headers.host}/token",service="s"`);
      }
      let length = 0;
      req.on("data", (c: Buffer) => {
        length += c.length;
      });
      req.on("end", () => json(res, 202, { length }));
    });
    const client = createRegistryClient({
      host: reg.host,
      credentials: { username: "robot", password: "secret" },
      retry: FAST,
    });
    async function* body() {
      yield Buffer.alloc(1000, 1);
      yield Buffer.alloc(24, 2);
    }
    const res = await client.request({
      method: "PATCH",
      path: "/v2/a/blobs/uploads/u1",
      headers: { "Content-Length": "1024" },
      body: body(),
      scope: { repository: "a", actions: ["pull", "push"] },
      streaming: true,
    });
    assert.equal(res.statusCode, 202);
    assert.deepEqual(await res.body.json(), { length: 1024 });
    assert.deepEqual(
      reg.seen.map((s) => `${s.method} ${s.path}`),
      ["GET /v2/", "GET /token", "PATCH /v2/a/blobs/uploads/u1"],
      "pinged first, so the body was sent once",
    );
  });

  test("a redirect loop ends, in words", async () => {
    const loop = await serve((_req, res, seen) => {
      res.writeHead(307, { Location: seen.path });
      res.end();
    });
    const client = createRegistryClient({ host: loop.host, retry: FAST });
    await assert.rejects(
      client.request({ method: "GET", path: "/v2/a/blobs/sha256:0" }),
      /^NetworkError: cannot reach http:\/\/127\.0\.0\.1:\d+\/v2\/a\/blobs\/sha256:0: a redirect loop: /,
    );
    assert.equal(loop.seen.length, 1);

    const chain = await serve((_req, res, seen) => {
      res.writeHead(302, { Location: `${seen.path}x` });
      res.end();
    });
    const other = createRegistryClient({ host: chain.host, retry: FAST });
    await assert.rejects(other.request({ method: "GET", path: "/v2/a/blobs/b" }), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, "TOO_MANY_REDIRECTS");
      assert.match(
        err.message,
        /\/v2\/a\/blobs\/b: more than 5 redirects \(the last to \/v2\/a\/blobs\/bxxxxxx\)$/,
      );
      return true;
    });
    assert.equal(chain.seen.length, 6);
  });
});

describe("an insecure registry: Docker's scheme fallback", () => {
  test("plain HTTP: the HTTPS try fails, the client falls back and keeps HTTP", async () => {
    const reg = await serve((_req, res, seen) => {
      if (seen.path === "/v2/") return json(res, 200, {});
      json(res, 200, { name: "a", tags: ["plain"] });
    });
    const client = createRegistryClient({ host: reg.host, insecure: true, retry: FAST });
    const { value } = await client.json<{ tags: string[] }>(tags("a"), "tags");
    assert.deepEqual(value.tags, ["plain"]);
    assert.equal(client.baseUrl, `http://${reg.host}`);
    await client.json(tags("a"), "tags");
    assert.deepEqual(
      reg.seen.map((s) => s.path),
      ["/v2/", "/v2/a/tags/list", "/v2/a/tags/list"],
      "one ping, then straight to HTTP",
    );
  });

  test("HTTPS with a certificate nobody trusts: used, unverified, only because the registry is insecure", async () => {
    const dir = await tempDir("berth-insecure-");
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
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
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=untrusted",
    ]);
    const reg = await listen(
      createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }),
      "https",
      (_req, res, seen) => {
        if (seen.path === "/v2/") return json(res, 200, {});
        json(res, 200, { name: "a", tags: ["tls"] });
      },
    );
    const insecure = createRegistryClient({ host: reg.host, insecure: true, retry: FAST });
    assert.deepEqual((await insecure.json<{ tags: string[] }>(tags("a"), "tags")).value.tags, ["tls"]);
    assert.equal(insecure.baseUrl, `https://${reg.host}`);
    await insecure.close();
  });
});
