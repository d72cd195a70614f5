import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Endpoint, isLoopbackRegistry } from "../../../src/remote/transport/endpoint.js";
import {
  compose,
  type Layer,
  scopeStrings,
  type TransportResponse,
} from "../../../src/remote/transport/request.js";

describe("where a registry is reached", () => {
  // [registry, insecure?, the base URLs tried in order]
  const table: [string, boolean, string[]][] = [
    ["docker.io", false, ["https://registry-1.docker.io"]],
    ["ghcr.io", false, ["https://ghcr.io"]],
    ["registry.internal:5000", false, ["https://registry.internal:5000"]],
    ["registry.internal:5000", true, ["https://registry.internal:5000", "http://registry.internal:5000"]],
    ["localhost:5000", false, ["http://localhost:5000"]],
    ["127.0.0.1:5000", false, ["http://127.0.0.1:5000"]],
    ["127.1.2.3", false, ["http://127.1.2.3"]],
    ["[::1]:5000", false, ["http://[::1]:5000"]],
    ["127.0.0.1:5000", true, ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]],
    ["128.0.0.1:5000", false, ["https://128.0.0.1:5000"]],
    ["localhost.example:5000", false, ["https://localhost.example:5000"]],
  ];
  for (const [registry, insecure, candidates] of table) {
    test(`${registry}${insecure ? " (insecure)" : ""}`, () => {
      const e = new Endpoint(registry, insecure);
      assert.deepEqual(e.candidates, candidates);
      assert.equal(e.baseUrl, candidates[0]);
      assert.equal(e.settled, candidates.length === 1);
      assert.equal(e.unverifiedOrigin, insecure ? candidates[0] : undefined);
    });
  }

  test("an insecure registry keeps HTTPS once it answered, or plain HTTP once it fell back", () => {
    const kept = new Endpoint("reg:5000", true);
    kept.settle();
    assert.deepEqual([kept.settled, kept.baseUrl], [true, "https://reg:5000"]);
    const fell = new Endpoint("reg:5000", true);
    fell.fallBack();
    fell.settle();
    assert.deepEqual([fell.settled, fell.baseUrl], [true, "http://reg:5000"]);
  });

  test("loopback names", () => {
    for (const name of ["localhost", "localhost:1", "127.0.0.1", "127.255.0.9:80", "[::1]", "[::1]:5000"]) {
      assert.equal(isLoopbackRegistry(name), true, name);
    }
    for (const name of ["localhost.localdomain", "10.0.0.1", "[::2]:5000", "docker.io"]) {
      assert.equal(isLoopbackRegistry(name), false, name);
    }
  });
});

describe("layers", () => {
  test("compose: the first layer is outermost, each sees what the one before it changed", async () => {
    const order: string[] = [];
    const tagging =
      (name: string): Layer =>
      (next) =>
      async (req) => {
        order.push(`${name} sees ${req.headers?.trail ?? ""}`);
        return next({ ...req, headers: { trail: `${req.headers?.trail ?? ""}${name}` } });
      };
    const base = async (req: { headers?: Record<string, string> }) => {
      order.push(`base sees ${req.headers?.trail}`);
      return { statusCode: 204 } as TransportResponse;
    };
    const send = compose(base, tagging("a"), tagging("b"), tagging("c"));
    assert.equal((await send({ method: "GET", path: "/" })).statusCode, 204);
    assert.deepEqual(order, ["a sees ", "b sees a", "c sees ab", "base sees abc"]);
  });

  test("scopes: one string per repository, actions merged in order", () => {
    assert.deepEqual(scopeStrings(undefined), []);
    assert.deepEqual(scopeStrings({ repository: "a/b", actions: ["pull"] }), ["repository:a/b:pull"]);
    assert.deepEqual(
      scopeStrings([
        { repository: "team/app", actions: ["pull", "push"] },
        { repository: "base/os", actions: ["pull"] },
        { repository: "team/app", actions: ["pull", "delete"] },
      ]),
      ["repository:team/app:pull,push,delete", "repository:base/os:pull"],
    );
  });
});
