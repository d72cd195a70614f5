import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import bcrypt from "bcryptjs";
import { type Server, startBerthRegistry, tempDir } from "../helpers/processes.js";
import { call, errorCode, type RawResponse, sha256 } from "./api-client.js";
import { ACCESS, basic, writeHtpasswd } from "./auth-helpers.js";

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

/** Pushes a blob with a monolithic upload as the given caller; returns its digest. */
async function pushBlobAs(reg: Server, name: string, data: string, headers: Record<string, string>) {
  const digest = sha256(data);
  const res = await call(reg.url, "POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, {
    body: data,
    headers: { ...headers, "Content-Type": "application/octet-stream" },
  });
  assert.equal(res.status, 201, res.body.toString());
  return digest;
}

// The access rules of auth-helpers.ts: anyone may pull public/**, dave may push dave/*, and only
// alice and the dev group see team/**. A glob's ** (and *) would also match "public/../team/app".
describe("auth review: names that are not repositories", () => {
  let reg: Server;
  let open: Server;
  before(async () => {
    const htpasswd = await writeHtpasswd();
    reg = await startBerthRegistry({
      config: {
        auth: { type: "token", htpasswd, ...ACCESS, token: { service: "berth-test", issuer: "berth-test" } },
      },
    });
    open = await startBerthRegistry({ config: { auth: { type: "htpasswd", htpasswd, ...ACCESS } } });
  });
  after(async () => {
    await reg.stop();
    await open.stop();
  });

  test("no token grants access to a path through .., even where public/** matches it", async () => {
    const res = await call(
      reg.url,
      "GET",
      `/token?service=berth-test&scope=${encodeURIComponent("repository:public/../team/app:pull")}`,
    );
    assert.equal(res.status, 200);
    const claims = JSON.parse(
      Buffer.from(res.json<{ token: string }>().token.split(".")[1]!, "base64url").toString(),
    );
    assert.deepEqual(claims.access, [{ type: "repository", name: "public/../team/app", actions: [] }]);
  });

  test("a mount from public/../team/app falls back to a plain upload: no blob, no server error", async () => {
    const digest = await pushBlobAs(open, "team/app", "a team-only layer", basic("alice"));
    for (const from of ["public/../team/app", "public/x/../../team/app"]) {
      const mount = await call(
        open.url,
        "POST",
        `/v2/dave/x/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from)}`,
        { headers: basic("dave") },
      );
      assert.equal(mount.status, 202, `${from}: ${mount.body.toString()}`);
    }
    const leaked = await call(open.url, "HEAD", `/v2/dave/x/blobs/${digest}`, { headers: basic("dave") });
    assert.equal(leaked.status, 404);
  });

  test("without auth, a mount from a name with .. is a plain upload too, not a storage error", async () => {
    const plain = await startBerthRegistry();
    try {
      const digest = await pushBlobAs(plain, "a/b", "a layer", {});
      const mount = await call(plain.url, "POST", `/v2/c/blobs/uploads/?mount=${digest}&from=c/../a/b`);
      assert.equal(mount.status, 202, mount.body.toString());
      assert.equal((await call(plain.url, "HEAD", `/v2/c/blobs/${digest}`)).status, 404);
    } finally {
      await plain.stop();
    }
  });
});
