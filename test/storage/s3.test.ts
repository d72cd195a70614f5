import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { PathNotFoundError, StorageUnavailableError } from "../../src/storage/driver.js";
import { S3Driver, type S3DriverOptions } from "../../src/storage/s3.js";
import { type Cluster, startCluster } from "../helpers/cluster.js";
import { freePort } from "../helpers/processes.js";
import { driverContract } from "./driver-contract.js";

// The storage-driver contract against Ceph radosgw (single node, memstore), started once here.
let cluster: Cluster;
let options: S3DriverOptions;

function driverAt(rootDirectory: string): S3Driver {
  return new S3Driver({ ...options, rootDirectory });
}

/** Every key and unfinished upload under a test's root directory. */
async function clear(driver: S3Driver, rootDirectory: string): Promise<void> {
  await driver.abortUploads(rootDirectory.slice(1), true);
  await driver.deletePrefix(`${rootDirectory.slice(1)}/`);
}

before(async () => {
  cluster = await startCluster(0);
  options = {
    endpoint: cluster.env.S3_ENDPOINT!,
    region: "us-east-1",
    bucket: "contract",
    accessKey: cluster.env.AWS_ACCESS_KEY_ID!,
    secretKey: cluster.env.AWS_SECRET_ACCESS_KEY!,
    forcePathStyle: true,
    rootDirectory: "/",
    partSize: 5 * 1024 * 1024,
    createBucket: true,
  };
  await driverAt("/").open();
});

after(async () => {
  await cluster?.down();
});

// Each test gets a root of its own, so nothing is cleared between tests: listing and deleting
// after each of the contract's tests took over a minute on a loaded machine, and the whole
// bucket goes with the cluster.
driverContract("s3 (radosgw)", async () => {
  const driver = driverAt(`/contract-${randomUUID()}`);
  return { driver, cleanup: () => driver.close() };
});

describe("S3Driver", () => {
  it("shows a multipart object only once committed; another instance continues a closed writer", async () => {
    const root = `/mp-${randomUUID()}`;
    const a = driverAt(root);
    const b = driverAt(root);
    const first = randomBytes(7 * 1024 * 1024 + 123);
    const second = randomBytes(6 * 1024 * 1024 + 7);
    const writer = await a.writer("/uploads/u/data", false);
    await writer.write(first);
    await writer.close();
    await assert.rejects(a.getContent("/uploads/u/data"), PathNotFoundError);
    // What a status request on another replica sees: the bytes written so far.
    assert.equal((await b.stat("/uploads/u/data")).size, first.length);
    const resumed = await b.writer("/uploads/u/data", true);
    assert.equal(resumed.size, first.length);
    await resumed.write(second);
    await assert.rejects(b.getContent("/uploads/u/data"), PathNotFoundError, "not visible before commit");
    await resumed.commit();
    const whole = Buffer.concat([first, second]);
    const read = createHash("sha256");
    for await (const chunk of await a.reader("/uploads/u/data")) read.update(chunk as Buffer);
    assert.equal(read.digest("hex"), createHash("sha256").update(whole).digest("hex"));
    assert.deepEqual(await a.list("/uploads/u"), ["data"], "no multipart state is listed");
    assert.deepEqual(await a.list("/"), ["uploads"]);
    await clear(a, root);
  });

  it("a writer that is never committed leaves nothing readable, and delete clears its parts", async () => {
    const root = `/abandon-${randomUUID()}`;
    const d = driverAt(root);
    const w = await d.writer("/x/data", false);
    await w.write(randomBytes(6 * 1024 * 1024));
    await w.close();
    await d.delete("/x");
    await assert.rejects(d.stat("/x/data"), PathNotFoundError);
    const again = await d.writer("/x/data", true);
    assert.equal(again.size, 0);
    await again.cancel();
  });

  it("unreachable object storage is StorageUnavailableError, not a missing path", async () => {
    const port = await freePort();
    const down = new S3Driver({ ...options, endpoint: `http://127.0.0.1:${port}`, rootDirectory: "/" });
    await assert.rejects(down.getContent("/a"), StorageUnavailableError);
    await assert.rejects(down.stat("/a"), StorageUnavailableError);
    await assert.rejects(down.putContent("/a", Buffer.from("x")), StorageUnavailableError);
    await down.close();
  });

  it("object storage lost while a part is on its way: write, close and commit say unavailable", async () => {
    // What radosgw dying in the middle of an upload PATCH does: the part's request fails while
    // the writer has already returned from write(). Each way of ending the writer must report
    // the outage (503 to the client), not the socket's raw error (which answered 500).
    for (const end of ["close", "commit"] as const) {
      const proxy = await stallingProxy(new URL(options.endpoint!).port);
      const root = `/cut-${randomUUID()}`;
      const d = new S3Driver({ ...options, endpoint: `http://127.0.0.1:${proxy.port}`, rootDirectory: root });
      try {
        const writer = await d.writer("/uploads/u/data", false);
        await writer.write(randomBytes(6 * 1024 * 1024));
        await proxy.stalled;
        await proxy.cut();
        await assert.rejects(
          end === "close" ? writer.close() : writer.commit(),
          StorageUnavailableError,
          end,
        );
      } finally {
        await proxy.cut();
        await d.close();
        await clear(driverAt(root), root);
      }
    }
  });

  it("a presigned URL fetches the object without credentials", async () => {
    const root = `/presign-${randomUUID()}`;
    const d = driverAt(root);
    await d.putContent("/blob", Buffer.from("presigned bytes"));
    const res = await fetch(await d.presignedGetUrl("/blob"));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "presigned bytes");
    await clear(d, root);
  });
});

/**
 * A TCP proxy to object storage that stops forwarding a connection once it has carried 1 MiB
 * (a part's body on its way, `stalled` resolves then) and, on `cut`, drops every connection and
 * stops listening, as a dying radosgw does.
 */
async function stallingProxy(
  upstreamPort: string,
): Promise<{ port: number; stalled: Promise<void>; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let onStall: () => void = () => {};
  const stalled = new Promise<void>((resolve) => {
    onStall = resolve;
  });
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(upstreamPort), "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    let carried = 0;
    client.on("data", (chunk: Buffer) => {
      carried += chunk.length;
      if (carried > 1024 * 1024) onStall();
      else upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  let closed = false;
  return {
    port,
    stalled,
    cut: async () => {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}
