import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { InvalidPathError, PathNotFoundError } from "../../src/storage/driver.js";
import { FilesystemDriver } from "../../src/storage/filesystem.js";
import { driverContract } from "./driver-contract.js";

async function tempRoot(): Promise<string> {
  return await mkdtemp(path.join(tmpdir(), "berth-storage-"));
}

driverContract("filesystem", async () => {
  const root = await tempRoot();
  return {
    driver: new FilesystemDriver(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe("FilesystemDriver", () => {
  let base: string;
  let root: string;
  let driver: FilesystemDriver;

  beforeEach(async () => {
    base = await tempRoot();
    root = path.join(base, "root");
    await mkdir(root);
    driver = new FilesystemDriver(root);
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it("maps driver paths to files under the root", async () => {
    await driver.putContent("/repositories/library/alpine/_manifests/tags/latest/link", Buffer.from("x"));
    const file = path.join(root, "repositories/library/alpine/_manifests/tags/latest/link");
    assert.equal(await readFile(file, "utf8"), "x");
  });

  it("cannot be steered outside the root", async () => {
    await writeFile(path.join(base, "secret"), "outside");
    for (const attempt of ["/../secret", "/a/../../secret", "/..", "/a/..\\..\\secret"]) {
      await assert.rejects(driver.getContent(attempt), InvalidPathError, attempt);
      await assert.rejects(driver.putContent(attempt, Buffer.from("pwned")), InvalidPathError, attempt);
      await assert.rejects(driver.delete(attempt), InvalidPathError, attempt);
    }
    assert.equal(await readFile(path.join(base, "secret"), "utf8"), "outside");
    assert.deepEqual((await readdir(base)).sort(), ["root", "secret"]);
  });

  it("follows a symlink planted inside the root: the root is trusted (see FilesystemDriver)", async () => {
    // Containment is lexical. Planting a link needs write access to the root, which already
    // gives away everything the registry stores; this test pins the behaviour so that a
    // change to it is deliberate.
    await mkdir(path.join(base, "elsewhere"));
    await writeFile(path.join(base, "elsewhere", "file"), "linked");
    await symlink(path.join(base, "elsewhere"), path.join(root, "link"));
    assert.equal((await driver.getContent("/link/file")).toString(), "linked");
  });

  it("hides a temp file left by a crash mid-putContent", async () => {
    await driver.putContent("/tags/latest", Buffer.from("committed"));
    // What a crash between open and rename leaves behind: a partial temp file beside the target.
    await writeFile(path.join(root, "tags", ".tmp-0123456789abcdef"), "half-writ");
    assert.deepEqual(await driver.list("/tags"), ["latest"]);
    const walked: string[] = [];
    await driver.walk("/", (e) => {
      walked.push(e.path);
    });
    assert.deepEqual(walked, ["/tags", "/tags/latest"]);
    assert.equal((await driver.getContent("/tags/latest")).toString(), "committed");
    // A crash before the first put of a path leaves only the temp file: the object is absent.
    await writeFile(path.join(root, "tags", ".tmp-fedcba9876543210"), "half-writ");
    await assert.rejects(driver.getContent("/tags/v1"), PathNotFoundError);
    assert.deepEqual(await driver.list("/tags"), ["latest"]);
  });

  it("sweeps temp files a killed put left, and the folders they leave empty, never a young one", async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const old = async (file: string) => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, "half-writ");
      await utimes(file, hourAgo, hourAgo);
    };
    await driver.putContent("/repositories/app/_layers/sha256/ab/link", Buffer.from("sha256:ab"));
    await old(path.join(root, "repositories/app/_layers/sha256/ab/.tmp-0123456789abcdef"));
    await old(path.join(root, "blobs/sha256/cd/cdef/.tmp-00000000000000aa"));
    await old(path.join(root, "repositories/app/_uploads/u-1/.tmp-00000000000000bb"));
    await old(path.join(root, ".tmp-00000000000000cc"));
    // Not a temp file of putContent's, however it is named, and a young temp file (a put in flight).
    await old(path.join(root, "repositories/app/_uploads/u-2/.tmp-not-a-temp-file"));
    await old(path.join(root, "repositories/app/_uploads/u-2/data"));
    await writeFile(path.join(root, "repositories/app/_uploads/u-2/.tmp-00000000000000dd"), "in flight");

    assert.equal(await driver.sweep(new Date(Date.now() - 60_000)), 4);
    const left = (await readdir(root, { recursive: true })).sort();
    assert.deepEqual(left, [
      "blobs",
      "blobs/sha256",
      "blobs/sha256/cd",
      "repositories",
      "repositories/app",
      "repositories/app/_layers",
      "repositories/app/_layers/sha256",
      "repositories/app/_layers/sha256/ab",
      "repositories/app/_layers/sha256/ab/link",
      "repositories/app/_uploads",
      "repositories/app/_uploads/u-2",
      "repositories/app/_uploads/u-2/.tmp-00000000000000dd",
      "repositories/app/_uploads/u-2/.tmp-not-a-temp-file",
      "repositories/app/_uploads/u-2/data",
    ]);
    assert.ok((await stat(root)).isDirectory(), "the root stays");
    assert.equal(await driver.sweep(new Date()), 1, "once old enough, the last one goes too");
  });

  it("a put into a directory a sweep just removed makes it again", async () => {
    const dir = path.join(root, "repositories/race/_layers");
    for (let i = 0; i < 50; i++) {
      await mkdir(dir, { recursive: true });
      const stale = path.join(dir, ".tmp-00000000000000ee");
      await writeFile(stale, "x");
      await utimes(stale, new Date(0), new Date(0));
      await Promise.all([
        driver.sweep(new Date(Date.now() - 60_000)),
        driver.putContent(`/repositories/race/_layers/link${i}`, Buffer.from("v")),
      ]);
      assert.equal((await readFile(path.join(dir, `link${i}`))).toString(), "v");
    }
  });

  it("refuses paths that name its temp files", async () => {
    await assert.rejects(driver.getContent("/tags/.tmp-0123456789abcdef"), InvalidPathError);
    await assert.rejects(driver.putContent("/.tmp-x/y", Buffer.from("x")), InvalidPathError);
  });

  it("leaves no temp file behind when putContent fails", async () => {
    await mkdir(path.join(root, "tags", "latest"), { recursive: true });
    await writeFile(path.join(root, "tags", "latest", "child"), "x");
    // Renaming a file over a non-empty directory fails after the temp file was written.
    await assert.rejects(driver.putContent("/tags/latest", Buffer.from("value")));
    assert.deepEqual(await readdir(path.join(root, "tags")), ["latest"]);
  });

  it("lists a root directory that does not exist yet as empty, and creates it on first put", async () => {
    const later = new FilesystemDriver(path.join(base, "not-yet"));
    assert.deepEqual(await later.list("/"), []);
    await later.putContent("/a", Buffer.from("a"));
    assert.deepEqual(await later.list("/"), ["a"]);
  });

  it("rejects a negative or fractional read offset", async () => {
    await driver.putContent("/r", Buffer.from("0123"));
    await assert.rejects(driver.reader("/r", -1), RangeError);
    await assert.rejects(driver.reader("/r", 1.5), RangeError);
    await assert.rejects(driver.reader("/r", 2, 0), RangeError);
  });
});
