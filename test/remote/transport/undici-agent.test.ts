import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Agent, alone, redirect } from "../../../src/remote/transport/undici-agent.js";

describe("undici's Agent loaded alone", () => {
  let server: Server;
  let origin: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === "/moved") {
        res.writeHead(307, { Location: "/here" }).end();
        return;
      }
      const hash = createHash("sha256");
      let length = 0;
      req.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on("end", () => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ method: req.method, url: req.url, length, sha256: hash.digest("hex") }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("comes from undici 7's files, not the whole package (which costs ~100 ms a start)", () => {
    assert.equal(alone, true, "undici's layout changed: update src/remote/transport/undici-agent.ts");
  });

  test("requests, follows redirects and sends an async iterable body", async () => {
    const agent = new Agent({ connections: 2 }).compose(redirect({ maxRedirections: 5 }));
    try {
      const moved = await agent.request({ origin, path: "/moved", method: "GET" });
      assert.deepEqual(await moved.body.json(), {
        method: "GET",
        url: "/here",
        length: 0,
        sha256: createHash("sha256").digest("hex"),
      });

      const parts = [Buffer.alloc(70_000, 1), Buffer.alloc(3, 2)];
      async function* body() {
        yield* parts;
      }
      const sent = await agent.request({
        origin,
        path: "/upload",
        method: "PATCH",
        headers: { "Content-Length": "70003" },
        body: body() as unknown as Buffer,
      });
      assert.deepEqual(await sent.body.json(), {
        method: "PATCH",
        url: "/upload",
        length: 70_003,
        sha256: createHash("sha256").update(Buffer.concat(parts)).digest("hex"),
      });
    } finally {
      await agent.close();
    }
  });
});
