import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DEFAULT_RETRY,
  isTransientError,
  isTransientStatus,
  parseRetryAfter,
  retryDelay,
} from "../../../src/remote/transport/retry-policy.js";

describe("which failures are worth a retry", () => {
  // [status, retry?]: "try later" answers, not refusals (RFC 9110 and the distribution spec).
  const statuses: [number, boolean][] = [
    [200, false],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [408, true],
    [416, false],
    [429, true],
    [500, true],
    [501, false],
    [502, true],
    [503, true],
    [504, true],
    [505, false],
  ];
  for (const [status, retry] of statuses) {
    test(`HTTP ${status}: ${retry ? "retry" : "final"}`, () =>
      assert.equal(isTransientStatus(status), retry));
  }

  const errors: [string, unknown, boolean][] = [
    ["a reset connection", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), true],
    [
      "a refused connection",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      true,
    ],
    [
      "undici's closed socket",
      Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }),
      true,
    ],
    [
      "a headers timeout",
      Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" }),
      true,
    ],
    [
      "a cause two levels down",
      new Error("wrapped", { cause: new Error("x", { cause: { code: "ETIMEDOUT" } }) }),
      true,
    ],
    ["an unknown host", Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }), false],
    [
      "a certificate error",
      Object.assign(new Error("self-signed"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      false,
    ],
    ["a plain error", new Error("boom"), false],
  ];
  for (const [what, err, retry] of errors) {
    test(`${what}: ${retry ? "retry" : "final"}`, () => assert.equal(isTransientError(err), retry));
  }
});

describe("how long to wait", () => {
  test("Retry-After in seconds or as an HTTP date; nonsense is ignored", () => {
    assert.equal(parseRetryAfter("3"), 3000);
    assert.equal(parseRetryAfter(["1", "9"]), 1000);
    const now = Date.parse("2026-12-01T10:00:00Z");
    assert.equal(parseRetryAfter("Tue, 01 Dec 2026 10:00:05 GMT", now), 5000);
    assert.equal(parseRetryAfter("Tue, 01 Dec 2026 09:00:00 GMT", now), 0, "a date gone by: at once");
    assert.equal(parseRetryAfter("soon"), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  test("backoff doubles from the base, is jittered within the upper half, and is capped", () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    for (const [attempt, step] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1000],
      [9, 1000],
    ] as const) {
      for (let i = 0; i < 50; i++) {
        const d = retryDelay(attempt, policy);
        assert.ok(d >= step / 2 && d <= step, `attempt ${attempt}: ${d} within [${step / 2}, ${step}]`);
      }
    }
  });

  test("a Retry-After wins over backoff, up to a minute", () => {
    assert.equal(retryDelay(1, DEFAULT_RETRY, 2000), 2000);
    assert.equal(retryDelay(1, DEFAULT_RETRY, 3_600_000), 60_000);
  });

  test("Docker's defaults: five attempts", () => assert.equal(DEFAULT_RETRY.attempts, 5));
});
