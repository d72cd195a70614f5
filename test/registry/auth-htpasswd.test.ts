import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fixtureLayout } from "../helpers/fixtures.js";
import { run, type Server, skopeo, startBerthRegistry, tempDir } from "../helpers/processes.js";
import { call, errorCode, type RawResponse } from "./api-client.js";
import { ACCESS, basic, PASSWORDS, writeHtpasswd } from "./auth-helpers.js";

// Basic authentication against an htpasswd file with the access rules of auth-helpers.ts.
describe("registry auth: htpasswd mode", () => {
  let reg: Server;
  let htpasswd: string;
  let layerDigest: string;
  before(async () => {
    htpasswd = await writeHtpasswd();
    reg = await startBerthRegistry({
      config: {
        auth: { type: "htpasswd", htpasswd, realm: "berth-test", ...ACCESS, rateLimit: { failures: 0 } },
      },
      extraArgs: ["--log-level", "debug"],
    });
    const alice = `alice:${PASSWORDS.alice}`;
    await skopeo([
      "copy",
      "--dest-creds",
      alice,
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/team/app:1`,
    ]);
    await skopeo([
      "copy",
      "--dest-creds",
      alice,
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/public/busybox:1`,
    ]);
    const manifest = await call(reg.url, "GET", "/v2/team/app/manifests/1", {
      headers: { ...basic("alice"), Accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(manifest.status, 200);
    layerDigest = manifest.json<{ layers: { digest: string }[] }>().layers[0]!.digest;
  });
  after(async () => {
    await reg.stop();
  });

  test("skopeo with --creds: pull where allowed, push refused where not, anonymous pull only under public/**", async () => {
    const bobPull = await skopeo([
      "inspect",
      "--creds",
      `bob:${PASSWORDS.bob}`,
      `docker://${reg.host}/team/app:1`,
    ]);
    assert.match(bobPull.stdout, /"Digest"/);
    const bobPush = await run("skopeo", [
      "copy",
      "--insecure-policy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `bob:${PASSWORDS.bob}`,
      `oci:${fixtureLayout()}:busybox-1`,
      `docker://${reg.host}/team/app:2`,
    ]);
    assert.notEqual(bobPush.code, 0);
    assert.match(bobPush.stderr, /denied|unauthorized/i);
    const anonPublic = await skopeo(["inspect", `docker://${reg.host}/public/busybox:1`]);
    assert.match(anonPublic.stdout, /"Digest"/);
    const anonTeam = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      `docker://${reg.host}/team/app:1`,
    ]);
    assert.notEqual(anonTeam.code, 0);
    assert.match(anonTeam.stderr, /unauthorized|authentication required/i);
  });

  test("skopeo login writes an authfile that later commands use", async () => {
    const authfile = join(await tempDir("berth-authfile-"), "auth.json");
    await skopeo(["login", "--authfile", authfile, "-u", "bob", "-p", PASSWORDS.bob!, reg.host]);
    const pulled = join(await tempDir("berth-pulled-"), "img");
    await skopeo(["copy", "--authfile", authfile, `docker://${reg.host}/team/app:1`, `dir:${pulled}`]);
    assert.ok(existsSync(join(pulled, "manifest.json")));
    const push = await run("skopeo", [
      "copy",
      "--insecure-policy",
      "--dest-tls-verify=false",
      "--authfile",
      authfile,
      `dir:${pulled}`,
      `docker://${reg.host}/team/other:1`,
    ]);
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /denied|unauthorized/i);
  });

  test("no credentials where anonymous may not pull: 401 with the Basic challenge", async () => {
    const res = await call(reg.url, "GET", "/v2/team/app/tags/list");
    assert.equal(res.status, 401);
    assert.equal(errorCode(res), "UNAUTHORIZED");
    assert.equal(res.headers["www-authenticate"], 'Basic realm="berth-test",charset="UTF-8"');
    // The base endpoint challenges a request without credentials, or clients would never send
    // theirs; empty Basic credentials (what clients without any send) pass, as an anonymous rule exists.
    const ping = await call(reg.url, "GET", "/v2/");
    assert.equal(ping.status, 401);
    assert.equal(ping.headers["www-authenticate"], 'Basic realm="berth-test",charset="UTF-8"');
    assert.equal((await call(reg.url, "GET", "/v2/", { headers: basic("", "") })).status, 200);
    assert.equal((await call(reg.url, "GET", "/v2/public/busybox/tags/list")).status, 200);
  });

  test("a valid user without the right gets 403 DENIED", async () => {
    const carol = await call(reg.url, "GET", "/v2/team/app/tags/list", { headers: basic("carol") });
    assert.equal(carol.status, 403);
    assert.equal(errorCode(carol), "DENIED");
    const bobDelete = await call(reg.url, "DELETE", "/v2/team/app/manifests/1", { headers: basic("bob") });
    assert.equal(bobDelete.status, 403);
    const still = await call(reg.url, "HEAD", "/v2/team/app/manifests/1", { headers: basic("bob") });
    assert.equal(still.status, 200);
  });

  test("a wrong password and an unknown user get byte-identical answers", async () => {
    const strip = (r: RawResponse) => ({
      status: r.status,
      body: r.body.toString("hex"),
      headers: { ...r.headers, date: "" },
    });
    const wrong = await call(reg.url, "GET", "/v2/team/app/tags/list", { headers: basic("alice", "nope") });
    const unknown = await call(reg.url, "GET", "/v2/team/app/tags/list", {
      headers: basic("mallory", "nope"),
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual(strip(wrong), strip(unknown));
  });

  test("a refused push writes nothing: no repository, no upload session, catalog unchanged", async () => {
    const before = await call(reg.url, "GET", "/v2/_catalog", { headers: basic("alice") });
    const uploadsDir = join(reg.root, "repositories", "team", "app", "_uploads");
    const uploadsBefore = existsSync(uploadsDir) ? await readdir(uploadsDir) : [];
    const start = await call(reg.url, "POST", "/v2/secret/blobs/uploads/", { headers: basic("carol") });
    assert.equal(start.status, 403);
    const mono = await call(reg.url, "POST", `/v2/secret/blobs/uploads/?digest=sha256:${"0".repeat(64)}`, {
      headers: basic("bob"),
      body: "x",
    });
    assert.equal(mono.status, 403);
    const anonManifest = await call(reg.url, "PUT", "/v2/secret/manifests/1", {
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: "{}",
    });
    assert.equal(anonManifest.status, 401);
    const teamUpload = await call(reg.url, "POST", "/v2/team/app/blobs/uploads/", { headers: basic("bob") });
    assert.equal(teamUpload.status, 403);
    assert.equal(existsSync(join(reg.root, "repositories", "secret")), false);
    assert.deepEqual(existsSync(uploadsDir) ? await readdir(uploadsDir) : [], uploadsBefore);
    const afterList = await call(reg.url, "GET", "/v2/_catalog", { headers: basic("alice") });
    assert.deepEqual(afterList.json(), before.json());
  });

  test("_catalog and /v1/search list only repositories the caller may pull, paginated after filtering", async () => {
    const list = async (headers: Record<string, string>, query = "") =>
      (await call(reg.url, "GET", `/v2/_catalog${query}`, { headers })).json<{ repositories: string[] }>()
        .repositories;
    assert.deepEqual(await list({}), ["public/busybox"]);
    assert.deepEqual(await list(basic("carol")), ["public/busybox"]);
    assert.deepEqual(await list(basic("bob")), ["public/busybox", "team/app"]);
    const page = await call(reg.url, "GET", "/v2/_catalog?n=1", { headers: basic("bob") });
    assert.deepEqual(page.json<{ repositories: string[] }>().repositories, ["public/busybox"]);
    assert.match(page.headers.link ?? "", /last=public%2Fbusybox/);
    assert.deepEqual(await list(basic("bob"), "?n=1&last=public%2Fbusybox"), ["team/app"]);
    const lastAnon = await call(reg.url, "GET", "/v2/_catalog?n=1", {});
    assert.equal(lastAnon.headers.link, undefined);
    const search = async (headers: Record<string, string>) =>
      (await call(reg.url, "GET", "/v1/search?q=", { headers }))
        .json<{ results: { name: string }[] }>()
        .results.map((r) => r.name);
    assert.deepEqual(await search({}), ["public/busybox"]);
    assert.deepEqual(await search(basic("alice")), ["public/busybox", "team/app"]);
  });

  test("a cross-repository mount needs pull on the source; without it the blob is not mounted", async () => {
    const refused = await call(
      reg.url,
      "POST",
      `/v2/dave/x/blobs/uploads/?mount=${layerDigest}&from=team/app`,
      {
        headers: basic("dave"),
      },
    );
    assert.equal(refused.status, 202, "falls back to a new upload session");
    const leaked = await call(reg.url, "HEAD", `/v2/dave/x/blobs/${layerDigest}`, { headers: basic("dave") });
    assert.equal(leaked.status, 404);
    const allowed = await call(
      reg.url,
      "POST",
      `/v2/public/m/blobs/uploads/?mount=${layerDigest}&from=team/app`,
      {
        headers: basic("alice"),
      },
    );
    assert.equal(allowed.status, 201);
  });

  test("passwords and Authorization headers never reach the log", async () => {
    const logs = reg.logs();
    assert.match(logs, /"msg":"request"/, "debug request lines are on");
    for (const [user, pw] of Object.entries(PASSWORDS)) {
      assert.equal(logs.includes(pw), false, `${user}'s password is logged`);
      assert.equal(logs.includes(Buffer.from(`${user}:${pw}`).toString("base64")), false);
    }
    assert.equal(/authorization/i.test(logs), false);
  });
});

describe("registry auth: failed-login limit", () => {
  test("over the limit: 429 with Retry-After even for the right password, then let in after the window", async () => {
    const reg = await startBerthRegistry({
      config: {
        auth: { type: "htpasswd", htpasswd: await writeHtpasswd(), rateLimit: { failures: 3, window: "2s" } },
      },
    });
    try {
      // No access list and no anonymous rule: the base endpoint needs a signed-in user.
      const anon = await call(reg.url, "GET", "/v2/");
      assert.equal(anon.status, 401);
      for (let i = 0; i < 3; i++) {
        const res = await call(reg.url, "GET", "/v2/", { headers: basic("alice", `guess-${i}`) });
        assert.equal(res.status, 401);
      }
      const blocked = await call(reg.url, "GET", "/v2/", { headers: basic("alice") });
      assert.equal(blocked.status, 429);
      assert.equal(errorCode(blocked), "TOOMANYREQUESTS");
      const retryAfter = Number(blocked.headers["retry-after"]);
      assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${blocked.headers["retry-after"]}`);
      await sleep(retryAfter * 1000 + 100);
      const ok = await call(reg.url, "GET", "/v2/", { headers: basic("alice") });
      assert.equal(ok.status, 200);
    } finally {
      await reg.stop();
    }
  });
});
