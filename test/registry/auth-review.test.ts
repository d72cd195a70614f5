import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import bcrypt from "bcryptjs";
import { startBerthRegistry, tempDir } from "../helpers/processes.js";
import { call, errorCode, type RawResponse } from "./api-client.js";
import { basic } from "./auth-helpers.js";

// Attacks found by an adversarial review of the auth code (issue #4), kept as regression tests.

/**
 * An htpasswd file with one user hashed at cost 12, a common production cost: each comparison
 * takes long enough for many guesses to arrive while the first is still being checked.
 */
async function slowHtpasswd(): Promise<string> {
  const file = join(await tempDir("berth-htpasswd-slow-"), "htpasswd");
  await writeFile(file, `erin:${bcrypt.hashSync("erin-Pw-5", 12)}\n`);
  return file;
}

/** Sends every request at once and counts the answers by status. */
async function burst(requests: (() => Promise<RawResponse>)[]): Promise<Record<number, number>> {
  const answers = await Promise.all(requests.map((send) => send()));
  const byStatus: Record<number, number> = {};
  for (const res of answers) byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
  return byStatus;
}

describe("auth review: failed logins sent all at once", () => {
  test("Basic: concurrent guesses get no more tries than the limit, and the right password waits too", async () => {
    const reg = await startBerthRegistry({
      config: {
        auth: { type: "htpasswd", htpasswd: await slowHtpasswd(), rateLimit: { failures: 3, window: "1m" } },
      },
    });
    try {
      const guess = (i: number) => () =>
        call(reg.url, "GET", "/v2/", { headers: basic("erin", `guess-${i}`) });
      const answers = await burst(Array.from({ length: 24 }, (_, i) => guess(i)));
      assert.deepEqual(answers, { 401: 3, 429: 21 });
      const right = await call(reg.url, "GET", "/v2/", { headers: basic("erin", "erin-Pw-5") });
      assert.equal(right.status, 429);
      assert.equal(errorCode(right), "TOOMANYREQUESTS");
    } finally {
      await reg.stop();
    }
  });

  test("token endpoint: GET with Basic and POST password grants share one limit", async () => {
    const reg = await startBerthRegistry({
      config: {
        auth: {
          type: "token",
          htpasswd: await slowHtpasswd(),
          token: { service: "berth-test", issuer: "berth-test" },
          rateLimit: { failures: 3, window: "1m" },
        },
      },
    });
    try {
      const get = (i: number) => () =>
        call(reg.url, "GET", "/token?service=berth-test", { headers: basic("erin", `guess-${i}`) });
      const post = (i: number) => () =>
        call(reg.url, "POST", "/token", {
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "password",
            username: "erin",
            password: `guess-${i}`,
          }).toString(),
        });
      const answers = await burst(Array.from({ length: 24 }, (_, i) => (i % 2 ? get(i) : post(i))));
      assert.deepEqual(answers, { 401: 3, 429: 21 });
    } finally {
      await reg.stop();
    }
  });
});
