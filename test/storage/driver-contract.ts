import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  type FileInfo,
  InvalidPathError,
  PathNotFoundError,
  type StorageDriver,
} from "../../src/storage/driver.js";

export interface DriverFixture {
  driver: StorageDriver;
  cleanup(): Promise<void>;
}

/** Paths every driver must refuse, from every verb. */
const HOSTILE_PATHS: readonly string[] = [
  "",
  "/",
  "..",
  "/..",
  "/a/../b",
  "/a/..",
  "a",
  "a/b",
  "/a/",
  "/a//b",
  "/a/./b",
  "/./a",
  "/a\\b",
  "/a\0b",
];

/**
 * The behaviour every StorageDriver must show, registered as node:test tests. Each test gets a
 * fresh, empty driver from `makeDriver` and hands it back through `cleanup`.
 */
export function driverContract(name: string, makeDriver: () => Promise<DriverFixture>): void {
  describe(`StorageDriver contract: ${name}`, () => {
    let fixture: DriverFixture | undefined;
    let driver: StorageDriver;

    beforeEach(async () => {
      fixture = await makeDriver();
      driver = fixture.driver;
    });

    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    describe("putContent and getContent", () => {
      it("round-trips bytes, creating parent directories", async () => {
        const content = randomBytes(1000);
        await driver.putContent("/a/b/c/object", content);
        assert.deepEqual(await driver.getContent("/a/b/c/object"), content);
      });

      it("round-trips empty content", async () => {
        await driver.putContent("/empty", new Uint8Array(0));
        assert.equal((await driver.getContent("/empty")).length, 0);
        assert.equal((await driver.stat("/empty")).size, 0);
      });

      it("overwrites, including with shorter content", async () => {
        await driver.putContent("/tags/latest", text("a much longer first value"));
        await driver.putContent("/tags/latest", text("short"));
        assert.equal((await driver.getContent("/tags/latest")).toString(), "short");
      });

      it("throws PathNotFoundError for a missing object", async () => {
        await assert.rejects(driver.getContent("/missing"), PathNotFoundError);
        await driver.putContent("/dir/file", text("x"));
        await assert.rejects(driver.getContent("/dir/other"), PathNotFoundError);
        await assert.rejects(driver.getContent("/dir/file/below"), PathNotFoundError);
      });

      it("throws PathNotFoundError for a directory", async () => {
        await driver.putContent("/dir/file", text("x"));
        await assert.rejects(driver.getContent("/dir"), PathNotFoundError);
      });

      it("leaves one complete value when puts race, and readers never see a mix", async () => {
        const size = 64 * 1024;
        const values = Array.from({ length: 8 }, (_, i) => Buffer.alloc(size, i + 1));
        await driver.putContent("/race/value", values[0]!);
        let done = false;
        let reads = 0;
        const reader = async () => {
          while (!done) {
            assertUniform(await driver.getContent("/race/value"), size);
            reads++;
          }
        };
        const readers = Array.from({ length: 4 }, reader);
        for (let round = 0; round < 25; round++) {
          await Promise.all(values.map((value) => driver.putContent("/race/value", value)));
        }
        done = true;
        await Promise.all(readers);
        assert.ok(reads > 0);
        assertUniform(await driver.getContent("/race/value"), size);
      });

      it("never lists its temporary files, even while puts are in flight", async () => {
        await driver.putContent("/tmpcheck/value", text("first"));
        let done = false;
        const lists = (async () => {
          let count = 0;
          while (!done || count === 0) {
            assert.deepEqual(await driver.list("/tmpcheck"), ["value"]);
            count++;
          }
        })();
        await Promise.all(
          Array.from({ length: 32 }, (_, i) =>
            driver.putContent("/tmpcheck/value", randomBytes(64 * 1024 + i)),
          ),
        );
        done = true;
        await lists;
        assert.deepEqual(await driver.list("/tmpcheck"), ["value"]);
      });
    });

    describe("path validation", () => {
      for (const hostile of HOSTILE_PATHS) {
        it(`rejects ${JSON.stringify(hostile)} from every verb`, async () => {
          await driver.putContent("/ok", text("ok"));
          await assert.rejects(driver.getContent(hostile), InvalidPathError);
          await assert.rejects(driver.putContent(hostile, text("x")), InvalidPathError);
          await assert.rejects(driver.reader(hostile), InvalidPathError);
          await assert.rejects(driver.writer(hostile, false), InvalidPathError);
          await assert.rejects(driver.writer(hostile, true), InvalidPathError);
          await assert.rejects(driver.stat(hostile), InvalidPathError);
          if (hostile !== "/") await assert.rejects(driver.list(hostile), InvalidPathError);
          await assert.rejects(driver.move(hostile, "/elsewhere"), InvalidPathError);
          await assert.rejects(driver.move("/ok", hostile), InvalidPathError);
          await assert.rejects(driver.delete(hostile), InvalidPathError);
          if (hostile !== "/")
            await assert.rejects(
              driver.walk(hostile, () => {}),
              InvalidPathError,
            );
          assert.equal((await driver.getContent("/ok")).toString(), "ok");
        });
      }
    });

    describe("reader", () => {
      it("reads the whole object, from an offset, and an inclusive range", async () => {
        await driver.putContent("/r", text("0123456789"));
        assert.equal(await readAll(await driver.reader("/r")), "0123456789");
        assert.equal(await readAll(await driver.reader("/r", 3)), "3456789");
        assert.equal(await readAll(await driver.reader("/r", 3, 5)), "345");
        assert.equal(await readAll(await driver.reader("/r", 9, 9)), "9");
        assert.equal(await readAll(await driver.reader("/r", 10)), "");
      });

      it("treats end = offset - 1 as an empty range, so an empty object reads as (0, size - 1)", async () => {
        await driver.putContent("/empty", new Uint8Array(0));
        assert.equal(await readAll(await driver.reader("/empty", 0, -1)), "");
      });

      it("throws PathNotFoundError for a missing object or a directory", async () => {
        await assert.rejects(driver.reader("/missing"), PathNotFoundError);
        await driver.putContent("/dir/file", text("x"));
        await assert.rejects(driver.reader("/dir"), PathNotFoundError);
        await assert.rejects(driver.reader("/dir/file/below"), PathNotFoundError);
      });
    });

    describe("writer", () => {
      it("writes, commits, and reports the size through stat", async () => {
        const writer = await driver.writer("/uploads/u1/data", false);
        assert.equal(writer.size, 0);
        await writer.write(text("hello "));
        await writer.write(text("world"));
        assert.equal(writer.size, 11);
        await writer.commit();
        assert.equal((await driver.stat("/uploads/u1/data")).size, 11);
        assert.equal((await driver.getContent("/uploads/u1/data")).toString(), "hello world");
      });

      it("continues at the old size when appending after close", async () => {
        const first = await driver.writer("/uploads/u2/data", false);
        await first.write(text("part one, "));
        await first.close();
        const second = await driver.writer("/uploads/u2/data", true);
        assert.equal(second.size, 10);
        await second.write(text("part two"));
        assert.equal(second.size, 18);
        await second.commit();
        assert.equal((await driver.getContent("/uploads/u2/data")).toString(), "part one, part two");
      });

      it("truncates existing content when not appending", async () => {
        await driver.putContent("/w", text("old content"));
        const writer = await driver.writer("/w", false);
        assert.equal(writer.size, 0);
        await writer.write(text("new"));
        await writer.commit();
        assert.equal((await driver.getContent("/w")).toString(), "new");
      });

      it("removes what it wrote on cancel", async () => {
        const writer = await driver.writer("/uploads/u3/data", false);
        await writer.write(text("doomed"));
        await writer.cancel();
        await assert.rejects(driver.stat("/uploads/u3/data"), PathNotFoundError);
      });

      it("refuses writes once finished, and close after commit is a no-op", async () => {
        const writer = await driver.writer("/w", false);
        await writer.write(text("x"));
        await writer.commit();
        await assert.rejects(writer.write(text("y")));
        await writer.close();
        assert.equal((await driver.getContent("/w")).toString(), "x");
      });

      it("keeps writes in call order even when they are not awaited one by one", async () => {
        const writer = await driver.writer("/ordered", false);
        const chunks = Array.from({ length: 50 }, (_, i) => text(`${i},`));
        await Promise.all(chunks.map((chunk) => writer.write(chunk)));
        await writer.commit();
        const expected = Array.from({ length: 50 }, (_, i) => `${i},`).join("");
        assert.equal((await driver.getContent("/ordered")).toString(), expected);
      });

      it("streams 20 MiB in 64 KiB chunks and reads back the same sha256", async () => {
        const chunkSize = 64 * 1024;
        const chunks = 320;
        const written = createHash("sha256");
        const writer = await driver.writer("/big/data", false);
        for (let i = 0; i < chunks; i++) {
          const chunk = randomBytes(chunkSize);
          written.update(chunk);
          await writer.write(chunk);
        }
        await writer.commit();
        assert.equal(writer.size, chunks * chunkSize);
        assert.equal((await driver.stat("/big/data")).size, chunks * chunkSize);
        const read = createHash("sha256");
        for await (const chunk of await driver.reader("/big/data")) read.update(chunk as Buffer);
        assert.equal(read.digest("hex"), written.digest("hex"));
      });
    });

    describe("stat", () => {
      it("tells a file from a directory", async () => {
        const before = Date.now();
        await driver.putContent("/d/f", text("12345"));
        const file = await driver.stat("/d/f");
        assert.equal(file.path, "/d/f");
        assert.equal(file.isDir, false);
        assert.equal(file.size, 5);
        assert.ok(file.modTime instanceof Date);
        // Generous slack for coarse filesystem clocks.
        assert.ok(Math.abs(file.modTime.getTime() - before) < 60_000);
        const dir = await driver.stat("/d");
        assert.equal(dir.path, "/d");
        assert.equal(dir.isDir, true);
      });

      it("throws PathNotFoundError for a missing path", async () => {
        await assert.rejects(driver.stat("/nothing/here"), PathNotFoundError);
      });
    });

    describe("list", () => {
      it("returns the names of direct children, files and directories", async () => {
        await driver.putContent("/l/a", text("a"));
        await driver.putContent("/l/b", text("b"));
        await driver.putContent("/l/sub/c", text("c"));
        assert.deepEqual((await driver.list("/l")).sort(), ["a", "b", "sub"]);
        assert.deepEqual(await driver.list("/l/sub"), ["c"]);
        assert.deepEqual(await driver.list("/"), ["l"]);
      });

      it("lists an empty root as empty", async () => {
        assert.deepEqual(await driver.list("/"), []);
      });

      it("throws PathNotFoundError for a missing directory or a file", async () => {
        await assert.rejects(driver.list("/missing"), PathNotFoundError);
        await driver.putContent("/l/a", text("a"));
        await assert.rejects(driver.list("/l/missing"), PathNotFoundError);
        await assert.rejects(driver.list("/l/a"), PathNotFoundError);
      });
    });

    describe("move", () => {
      it("replaces the destination and removes the source", async () => {
        await driver.putContent("/m/source", text("new"));
        await driver.putContent("/m/dest", text("old"));
        await driver.move("/m/source", "/m/dest");
        assert.equal((await driver.getContent("/m/dest")).toString(), "new");
        await assert.rejects(driver.stat("/m/source"), PathNotFoundError);
      });

      it("creates the destination's parents", async () => {
        await driver.putContent("/uploads/u/data", text("blob"));
        await driver.move("/uploads/u/data", "/blobs/sha256/ab/abcd/data");
        assert.equal((await driver.getContent("/blobs/sha256/ab/abcd/data")).toString(), "blob");
      });

      it("throws PathNotFoundError for a missing source and leaves the destination alone", async () => {
        await driver.putContent("/m/dest", text("old"));
        await assert.rejects(driver.move("/m/missing", "/m/dest"), PathNotFoundError);
        await assert.rejects(driver.move("/m/missing", "/n/dest"), PathNotFoundError);
        assert.equal((await driver.getContent("/m/dest")).toString(), "old");
      });
    });

    describe("walk", () => {
      async function walked(path: string, skip: string[] = []): Promise<FileInfo[]> {
        const seen: FileInfo[] = [];
        await driver.walk(path, (entry) => {
          seen.push(entry);
          return skip.includes(entry.path) ? "skip" : undefined;
        });
        return seen;
      }

      it("visits files and directories depth first, in byte order, a directory before its contents", async () => {
        await driver.putContent("/w/b/z", text("zz"));
        await driver.putContent("/w/a", text("a"));
        await driver.putContent("/w/b/y/x", text("xxx"));
        await driver.putContent("/w/B", text("upper"));
        await driver.putContent("/w/c-d", text(""));
        await driver.putContent("/other", text("o"));
        const seen = await walked("/w");
        assert.deepEqual(
          seen.map((e) => [e.path, e.isDir]),
          [
            ["/w/B", false],
            ["/w/a", false],
            ["/w/b", true],
            ["/w/b/y", true],
            ["/w/b/y/x", false],
            ["/w/b/z", false],
            ["/w/c-d", false],
          ],
        );
        const sizes = Object.fromEntries(seen.filter((e) => !e.isDir).map((e) => [e.path, e.size]));
        assert.deepEqual(sizes, { "/w/B": 5, "/w/a": 1, "/w/b/y/x": 3, "/w/b/z": 2, "/w/c-d": 0 });
        for (const e of seen) assert.ok(e.modTime instanceof Date);
        const x = seen.find((e) => e.path === "/w/b/y/x")!;
        // The same time stat gives (S3's listing has milliseconds where its HEAD has seconds).
        assert.ok(Math.abs(x.modTime.getTime() - (await driver.stat("/w/b/y/x")).modTime.getTime()) < 1000);
      });

      it("walks the whole tree from the root, and an empty root visits nothing", async () => {
        assert.deepEqual(await walked("/"), []);
        await driver.putContent("/r/f", text("f"));
        await driver.putContent("/s", text("s"));
        assert.deepEqual(
          (await walked("/")).map((e) => e.path),
          ["/r", "/r/f", "/s"],
        );
      });

      it("stays out of a directory the visitor skips", async () => {
        await driver.putContent("/k/skip/deep/f", text("f"));
        await driver.putContent("/k/skip/g", text("g"));
        await driver.putContent("/k/keep/h", text("h"));
        assert.deepEqual(
          (await walked("/k", ["/k/skip"])).map((e) => e.path),
          ["/k/keep", "/k/keep/h", "/k/skip"],
        );
      });

      it("waits for an asynchronous visitor before going on", async () => {
        await driver.putContent("/v/a", text("a"));
        await driver.putContent("/v/b", text("b"));
        const order: string[] = [];
        await driver.walk("/v", async (entry) => {
          order.push(`start ${entry.path}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(`end ${entry.path}`);
        });
        assert.deepEqual(order, ["start /v/a", "end /v/a", "start /v/b", "end /v/b"]);
      });

      it("throws PathNotFoundError for a missing directory or a file, and passes a visitor's error on", async () => {
        await assert.rejects(
          driver.walk("/missing", () => {}),
          PathNotFoundError,
        );
        await driver.putContent("/file", text("f"));
        await assert.rejects(
          driver.walk("/file", () => {}),
          PathNotFoundError,
        );
        await assert.rejects(
          driver.walk("/", () => {
            throw new Error("visitor failed");
          }),
          /visitor failed/,
        );
      });

      it("visits a committed writer's object with its whole size", async () => {
        const writer = await driver.writer("/u/upload/data", false);
        await writer.write(text("part one, "));
        await writer.write(text("part two"));
        await writer.commit();
        const data = (await walked("/u")).find((e) => e.path === "/u/upload/data");
        assert.equal(data?.size, 18);
        assert.equal(data?.isDir, false);
      });
    });

    describe("delete", () => {
      it("deletes a file and leaves its siblings", async () => {
        await driver.putContent("/del/a", text("a"));
        await driver.putContent("/del/b", text("b"));
        await driver.delete("/del/a");
        await assert.rejects(driver.getContent("/del/a"), PathNotFoundError);
        assert.deepEqual(await driver.list("/del"), ["b"]);
      });

      it("deletes a whole tree", async () => {
        await driver.putContent("/tree/a", text("a"));
        await driver.putContent("/tree/b/c", text("c"));
        await driver.putContent("/tree/b/d/e", text("e"));
        await driver.putContent("/keep", text("k"));
        await driver.delete("/tree");
        await assert.rejects(driver.stat("/tree"), PathNotFoundError);
        await assert.rejects(driver.getContent("/tree/b/d/e"), PathNotFoundError);
        assert.deepEqual(await driver.list("/"), ["keep"]);
      });

      it("throws PathNotFoundError for a missing path", async () => {
        await assert.rejects(driver.delete("/missing"), PathNotFoundError);
      });
    });
  });
}

function text(s: string): Buffer {
  return Buffer.from(s, "utf8");
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** One whole value from a race: the right length, and every byte from the same writer. */
function assertUniform(content: Buffer, size: number): void {
  assert.equal(content.length, size);
  const first = content[0]!;
  assert.ok(
    content.every((byte) => byte === first),
    "content mixes bytes from two writers",
  );
}
