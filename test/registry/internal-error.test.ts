import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startBerthRegistry } from "../helpers/processes.js";
import { call, errorCode, sha256 } from "./api-client.js";

test("an unexpected error answers 500 with a request id, and only the log has the cause", async () => {
  const reg = await startBerthRegistry();
  try {
    // A file where the blob store's directory belongs: storing any blob fails, with a message
    // that names paths inside the registry.
    await rm(join(reg.root, "blobs"), { recursive: true, force: true });
    await writeFile(join(reg.root, "blobs"), "not a directory");
    const data = randomBytes(1000);
    const res = await call(reg.url, "POST", `/v2/broken/blobs/uploads/?digest=${sha256(data)}`, {
      body: data,
    });
    assert.equal(res.status, 500);
    assert.equal(errorCode(res), "UNKNOWN");
    const body = res.json<{ errors: { message: string; detail: { requestId: string } }[] }>();
    const requestId = body.errors[0]!.detail.requestId;
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers["x-request-id"], requestId);
    assert.equal(body.errors[0]!.message, `unknown error (request id ${requestId})`);
    assert.ok(!res.body.toString().includes(reg.root), "the root's path is not sent");
    assert.doesNotMatch(res.body.toString(), /ENOTDIR|EEXIST|not found|_uploads/);
    let line: string | undefined;
    for (let i = 0; i < 50 && !line; i++) {
      line = reg
        .logs()
        .split("\n")
        .find((l) => l.includes(requestId));
      if (!line) await sleep(100);
    }
    assert.ok(line, "the log has the request id");
    assert.match(line, /"msg":"request failed"/);
    assert.match(line, /"err":\{"type":"\w+","message":"[^"]*(ENOTDIR|EEXIST|not found)/);
  } finally {
    await reg.stop();
  }
});
