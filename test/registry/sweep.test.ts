import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, readdir, stat, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { repoRoot } from "../helpers/fixtures.js";
import { run, startBerthRegistry } from "../helpers/processes.js";
import { call, pushBlob, sha256 } from "./api-client.js";

// What a registry killed with `kill -9` leaves in its root (issue 16): temporary files of puts
// that never got renamed, beside layer links, blob data and in upload folders, and upload folders
// with nothing or only such a file in them. They are swept at start, periodically and by
// `registry gc`, once older than an hour (a write in progress, here or in a replica sharing the
// root, is younger); sessions themselves are the upload purge's.

const TWO_HOURS_AGO = new Date(Date.now() - 2 * 3_600_000);

function tempName(): string {
  return `.tmp-${randomBytes(8).toString("hex")}`;
}

/** A file, and the folders made for it, dated `when`. */
async function plant(root: string, relative: string, when: Date): Promise<string> {
  const file = join(root, relative);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, "half-writ");
  await utimes(file, when, when);
  await utimes(dirname(file), when, when);
  return file;
}

async function present(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not swept in time: ${what}`);
    await sleep(100);
  }
}

test("what a kill -9 left is swept at the next start; young leftovers and live sessions stay", async () => {
  const first = await startBerthRegistry();
  const root = first.root;
  const layer = randomBytes(3000);
  const digest = await pushBlob(first.url, "app", layer);
  const hex = digest.slice("sha256:".length);
  // A live session, part-written, that a client will finish after the restart.
  const data = randomBytes(50_000);
  const loc = (await call(first.url, "POST", "/v2/app/blobs/uploads/")).headers.location!;
  await call(first.url, "PATCH", loc, {
    body: data.subarray(0, 20_000),
    headers: { "Content-Range": "0-19999" },
  });
  await first.kill();

  const old = [
    await plant(root, `repositories/app/_layers/sha256/${hex}/${tempName()}`, TWO_HOURS_AGO),
    await plant(root, `blobs/sha256/${hex.slice(0, 2)}/${hex}/${tempName()}`, TWO_HOURS_AGO),
    await plant(root, `repositories/app/_uploads/${loc.split("/").pop()}/${tempName()}`, TWO_HOURS_AGO),
  ];
  const tempOnlyUpload = join(root, "repositories/app/_uploads", randomUUID());
  await plant(tempOnlyUpload, tempName(), TWO_HOURS_AGO);
  const emptyUpload = join(root, "repositories/other/_uploads", randomUUID());
  await mkdir(emptyUpload, { recursive: true });
  await utimes(emptyUpload, TWO_HOURS_AGO, TWO_HOURS_AGO);
  // A put in flight (here or in a replica sharing the root): minutes old at most.
  const young = await plant(root, `repositories/app/_uploads/${randomUUID()}/${tempName()}`, new Date());

  const second = await startBerthRegistry({ root });
  try {
    await until(
      async () => !(await present(tempOnlyUpload)) && !(await present(emptyUpload)),
      "upload folders",
    );
    for (const file of old) assert.equal(await present(file), false, file);
    assert.equal(await present(young), true, "a young temporary file stays");
    assert.equal(await present(dirname(young)), true);
    assert.match(
      second.logs(),
      /"temporaryFiles":4,"uploadFolders":1[^\n]*swept what interrupted writes left/,
    );
    // Nothing that was in use is touched.
    assert.ok((await call(second.url, "GET", `/v2/app/blobs/${digest}`)).body.equals(layer));
    const status = await call(second.url, "GET", loc);
    assert.equal(status.headers.range, "0-19999");
    const done = await call(second.url, "PUT", `${loc}?digest=${sha256(data)}`, {
      body: data.subarray(20_000),
      headers: { "Content-Range": `20000-${data.length - 1}` },
    });
    assert.equal(done.status, 201, done.body.toString());
  } finally {
    await second.stop();
  }
});

test("the running server sweeps every uploads.purgeInterval", async () => {
  const reg = await startBerthRegistry({ config: { uploads: { purgeInterval: "1s" } } });
  try {
    await pushBlob(reg.url, "periodic", randomBytes(100));
    await sleep(1500);
    const leftover = await plant(
      reg.root,
      `repositories/periodic/_uploads/${randomUUID()}/${tempName()}`,
      TWO_HOURS_AGO,
    );
    await until(async () => !(await present(dirname(leftover))), "a temp-only upload folder");
    assert.deepEqual(await readdir(join(reg.root, "repositories/periodic/_uploads")), []);
  } finally {
    await reg.stop();
  }
});

test("registry gc reports the upload sessions still open and sweeps leftovers", async () => {
  const reg = await startBerthRegistry({ config: { gc: { interval: "0" } } });
  const gc = (args: string[]) =>
    run(process.execPath, [join(repoRoot(), "bin/berth.js"), "registry", "gc", "--root", reg.root, ...args]);
  try {
    for (let i = 0; i < 2; i++)
      assert.equal((await call(reg.url, "POST", "/v2/abandoned/blobs/uploads/")).status, 202);
    const leftover = await plant(reg.root, `blobs/sha256/00/${"0".repeat(64)}/${tempName()}`, TWO_HOURS_AGO);

    const recent = await gc(["--dry-run"]);
    assert.equal(recent.code, 0, recent.stderr);
    assert.match(recent.stdout, /^0 upload sessions older than the grace period \(1h\) still open/m);
    const dry = await gc(["--dry-run", "--grace", "0"]);
    assert.match(
      dry.stdout,
      /^2 upload sessions older than the grace period \(0\) still open: abandoned sessions are purged after uploads\.maxAge \(168h\)$/m,
    );
    assert.doesNotMatch(dry.stdout, /removed/);
    assert.equal(await present(leftover), true, "a dry run removes nothing");

    const real = await gc(["--grace", "0"]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /^2 upload sessions older than the grace period/m);
    assert.match(
      real.stdout,
      /^removed 1 temporary file and 0 upload folders without a session left by interrupted writes$/m,
    );
    assert.equal(await present(leftover), false);
  } finally {
    await reg.stop();
  }
});
