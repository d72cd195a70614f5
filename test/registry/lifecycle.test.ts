import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startBerthRegistry, waitFor } from "../helpers/processes.js";
import { call, errorCode, pushBlob, sha256 } from "./api-client.js";

/** Every file under dir, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath ?? entry.path, entry.name).slice(dir.length + 1));
  }
  return out;
}

/** Sends the head and part of a body over a raw socket, then leaves the socket open for the caller. */
function partialRequest(host: string, head: string, partial: Buffer) {
  const [hostname, port] = host.split(":");
  const socket = connect(Number(port), hostname!);
  socket.on("error", () => {});
  return new Promise<typeof socket>((resolve) => {
    socket.on("connect", () => {
      socket.write(head);
      socket.write(partial, () => resolve(socket));
    });
  });
}

test("an upload session survives a restart and finishes with the right digest", async () => {
  const first = await startBerthRegistry();
  const data = randomBytes(200_000);
  const start = await call(first.url, "POST", "/v2/restart/blobs/uploads/");
  const loc = start.headers.location!;
  await call(first.url, "PATCH", loc, {
    body: data.subarray(0, 120_000),
    headers: { "Content-Range": "0-119999" },
  });
  assert.equal(await first.stop(), 0, "SIGTERM exits cleanly");

  const second = await startBerthRegistry({ root: first.root });
  try {
    const status = await call(second.url, "GET", loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.range, "0-119999");
    await call(second.url, "PATCH", loc, {
      body: data.subarray(120_000),
      headers: { "Content-Range": "120000-199999" },
    });
    const done = await call(second.url, "PUT", `${loc}?digest=${sha256(data)}`);
    assert.equal(done.status, 201);
    const get = await call(second.url, "GET", `/v2/restart/blobs/${sha256(data)}`);
    assert.ok(get.body.equals(data));
  } finally {
    await second.stop();
  }
});

test("killing the server in the middle of a push leaves no blob, whole or partial", async () => {
  const reg = await startBerthRegistry();
  const data = randomBytes(4 * 1024 * 1024);
  const digest = sha256(data);
  const head =
    `POST /v2/killed/blobs/uploads/?digest=${digest} HTTP/1.1\r\nHost: ${reg.host}\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`;
  const socket = await partialRequest(reg.host, head, data.subarray(0, 1024 * 1024));
  await sleep(200);
  await reg.kill();
  socket.destroy();

  const blobsDir = join(reg.root, "blobs");
  const blobFiles = await filesUnder(blobsDir).catch(() => []);
  assert.deepEqual(blobFiles, [], "no file in the blob store");

  const again = await startBerthRegistry({ root: reg.root });
  try {
    const res = await call(again.url, "HEAD", `/v2/killed/blobs/${digest}`);
    assert.equal(res.status, 404);
    // The same push, done properly, now succeeds.
    assert.equal(await pushBlob(again.url, "killed", data), digest);
  } finally {
    await again.stop();
  }
});

test("a body cut short is refused and stores nothing", async () => {
  const reg = await startBerthRegistry();
  try {
    const data = randomBytes(500_000);
    const digest = sha256(data);
    const head =
      `POST /v2/short/blobs/uploads/?digest=${digest} HTTP/1.1\r\nHost: ${reg.host}\r\n` +
      `Content-Length: ${data.length}\r\n\r\n`;
    const socket = await partialRequest(reg.host, head, data.subarray(0, 100_000));
    socket.end();
    await sleep(300);
    socket.destroy();
    assert.equal((await call(reg.url, "HEAD", `/v2/short/blobs/${digest}`)).status, 404);
    assert.deepEqual(await filesUnder(join(reg.root, "blobs")).catch(() => []), []);
  } finally {
    await reg.stop();
  }
});

test("uploads expire after uploads.maxAge", async () => {
  const reg = await startBerthRegistry({ config: { uploads: { maxAge: "1s", purgeInterval: "1s" } } });
  try {
    const start = await call(reg.url, "POST", "/v2/expiry/blobs/uploads/");
    await call(reg.url, "PATCH", start.headers.location!, { body: "stale" });
    assert.equal((await call(reg.url, "GET", start.headers.location!)).status, 204);
    await waitFor(
      "the session to expire",
      async () => (await call(reg.url, "GET", start.headers.location!)).status === 404,
    );
  } finally {
    await reg.stop();
  }
});

test("with delete.enabled false, deletes are 405 UNSUPPORTED and change nothing", async () => {
  const reg = await startBerthRegistry({ config: { delete: { enabled: false } } });
  try {
    const digest = await pushBlob(reg.url, "keep", "keep me");
    const res = await call(reg.url, "DELETE", `/v2/keep/blobs/${digest}`);
    assert.equal(res.status, 405);
    assert.equal(errorCode(res), "UNSUPPORTED");
    assert.equal((await call(reg.url, "HEAD", `/v2/keep/blobs/${digest}`)).status, 200);
  } finally {
    await reg.stop();
  }
});

test("SIGTERM lets an in-flight upload finish before the server exits", async () => {
  const reg = await startBerthRegistry();
  const data = randomBytes(2 * 1024 * 1024);
  const digest = sha256(data);
  const head =
    `POST /v2/graceful/blobs/uploads/?digest=${digest} HTTP/1.1\r\nHost: ${reg.host}\r\n` +
    `Content-Length: ${data.length}\r\nConnection: close\r\n\r\n`;
  const socket = await partialRequest(reg.host, head, data.subarray(0, 1024 * 1024));
  const response = new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.on("close", () => resolve(text));
  });
  reg.proc.kill("SIGTERM");
  await sleep(300);
  socket.write(data.subarray(1024 * 1024));
  const text = await response;
  assert.match(text, /^HTTP\/1\.1 201 /);
  assert.equal(await reg.stop(), 0, `${reg.proc.signalCode}\n${reg.logs()}`);
  const blobFiles = await filesUnder(join(reg.root, "blobs"));
  assert.equal(blobFiles.length, 1);
  assert.ok(blobFiles[0]!.includes(digest.slice("sha256:".length)));
});
