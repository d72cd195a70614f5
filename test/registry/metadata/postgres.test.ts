import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import pg from "pg";
import type { RegistryMetadata } from "../../../src/registry/metadata/metadata.js";
import { openPostgresMetadata } from "../../../src/registry/metadata/postgres/store.js";
import { FilesystemDriver } from "../../../src/storage/filesystem.js";
import { type Postgres, startPostgres } from "../../helpers/postgres.js";
import { metadataContract } from "./contract.js";

// The metadata contract against PostgreSQL 15, started once for this file; each test gets a
// database of its own (and a filesystem root for the blobs' bytes).
let postgres: Postgres;

before(async () => {
  postgres = await startPostgres();
});
after(async () => {
  await postgres?.down();
});

async function createDatabase(): Promise<string> {
  const name = `contract_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}

metadataContract(
  "postgres",
  async () => {
    const url = await createDatabase();
    const root = await mkdtemp(join(tmpdir(), "berth-metadata-"));
    const open = () => openPostgresMetadata({ url, poolSize: 4, lockPoolSize: 8 });
    const opened: RegistryMetadata[] = [await open()];
    return {
      metadata: opened[0]!,
      driver: new FilesystemDriver(root),
      open: async () => {
        const another = await open();
        opened.push(another);
        return another;
      },
      outage: { kill: () => postgres.kill(), start: () => postgres.start() },
      cleanup: async () => {
        await Promise.all(opened.map((m) => m.close()));
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  { uploadLocksAcrossHandles: true, sharedSettings: true, outages: true },
);
