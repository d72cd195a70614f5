import assert from "node:assert/strict";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openArchiveDir } from "../../src/archive/load.js";
import { OciLayoutSink, OciLayoutSource } from "../../src/archive/oci-layout.js";
import { TarArchiveSink } from "../../src/archive/tar-sink.js";
import { untar } from "../../src/archive/untar.js";
import { LocalStore } from "../../src/images/local-store.js";
import { Digest } from "../../src/oci/digest.js";
import { parsePlatform } from "../../src/oci/platform.js";
import { parseReference, type Reference } from "../../src/oci/reference.js";
import { RemoteRepository } from "../../src/remote/repository.js";
import { createRegistryClient } from "../../src/remote/transport/client.js";
import { PlatformNotFoundError } from "../../src/transfer/errors.js";
import { LocalStoreSink, LocalStoreSource } from "../../src/transfer/local-store.js";
import { RegistrySink, RegistrySource } from "../../src/transfer/registry.js";
import type { ImageSink, ImageSource } from "../../src/transfer/types.js";
import { transfer } from "../../src/transfer/walk.js";
import { fixtureLayout } from "../helpers/fixtures.js";
import { runOk, type Server, startBerthRegistry, startDistribution, tempDir } from "../helpers/processes.js";
import { type Blob, indexOf, makeImage, readLayoutBlob, serveBlobs, writeLayout } from "./images.js";

/**
 * One suite run against every image source and sink: whatever goes in comes back out with the
 * same manifest digests; nested indexes go through whole, and a platform is found in them;
 * foreign layers stay where they are for registries and are fetched from their URLs for the
 * local store. Each endpoint is a sink for one transfer and a source for the next.
 */
interface Endpoint {
  name: string;
  /** Whether the endpoint keeps indexes (the local store keeps one image per name). */
  indexes: boolean;
  /** Whether blobs of foreign layers are stored (registries keep them by reference). */
  foreignBlobs: boolean;
  start?(): Promise<void>;
  stop?(): Promise<void>;
  sink(tag: string): Promise<{ sink: ImageSink; names: Reference[]; close?: () => Promise<void> }>;
  source(tag: string): Promise<{ source: ImageSource; reference: string }>;
  /** Whether the endpoint holds a blob (after a transfer into it). */
  hasBlob(digest: string): Promise<boolean>;
}

function registryEndpoint(name: string, start: () => Promise<Server>): Endpoint {
  let server: Server;
  const repo = () => new RemoteRepository(createRegistryClient({ host: server.host }), "contract/image");
  return {
    name,
    indexes: true,
    foreignBlobs: false,
    start: async () => {
      server = await start();
    },
    stop: async () => {
      await server.stop();
    },
    sink: async (tag) => ({
      sink: new RegistrySink(repo()),
      names: [parseReference(`${server.host}/contract/image:${tag}`)],
    }),
    source: async (tag) => ({ source: new RegistrySource(repo()), reference: tag }),
    hasBlob: async (digest) => (await repo().headBlob(digest)) !== undefined,
  };
}

function layoutEndpoint(): Endpoint {
  let dir: string;
  return {
    name: "an OCI layout",
    indexes: true,
    foreignBlobs: true,
    start: async () => {
      dir = await tempDir("contract-layout-");
    },
    sink: async (tag) => ({
      sink: new OciLayoutSink(dir),
      names: [parseReference(`localhost/layout:${tag}`)],
    }),
    source: async (tag) => ({ source: new OciLayoutSource(dir), reference: tag }),
    hasBlob: async (digest) => existsSync(join(dir, "blobs/sha256", digest.slice(7))),
  };
}

/** A docker-archive as Berth writes it (with the OCI layout Docker 25+ adds), read back as `load` reads it. */
function archiveEndpoint(): Endpoint {
  let dir: string;
  const file = (tag: string) => join(dir, `${tag}.tar`);
  return {
    name: "a docker-archive",
    indexes: true,
    foreignBlobs: true,
    start: async () => {
      dir = await tempDir("contract-archive-");
    },
    sink: async (tag) => {
      const sink = new TarArchiveSink(createWriteStream(file(tag)), { docker: true });
      return { sink, names: [parseReference(`contract/image:${tag}`)], close: () => sink.close() };
    },
    source: async (tag) => {
      const unpacked = await tempDir("contract-archive-read-");
      await untar(createReadStream(file(tag)), unpacked);
      const contents = await openArchiveDir(unpacked);
      const image = contents.images.find((i) => i.names.some((n) => n.tag === tag));
      assert.ok(image, `the archive names an image ${tag}`);
      return { source: contents.source, reference: image.reference };
    },
    hasBlob: async (digest) => {
      const listed = await runOk("tar", ["-tf", file("foreign")]);
      return listed.stdout.split("\n").includes(`blobs/sha256/${digest.slice(7)}`);
    },
  };
}

function localStoreEndpoint(): Endpoint {
  let store: LocalStore;
  return {
    name: "the local store",
    indexes: false,
    foreignBlobs: true,
    start: async () => {
      store = new LocalStore(await tempDir("contract-store-"));
    },
    stop: async () => store.close(),
    sink: async (tag) => ({
      sink: new LocalStoreSink(store),
      names: [parseReference(`contract/image:${tag}`)],
    }),
    source: async (tag) => ({ source: new LocalStoreSource(store), reference: `contract/image:${tag}` }),
    hasBlob: async (digest) => store.content.has(Digest.parse(digest)),
  };
}

const endpoints: Endpoint[] = [
  registryEndpoint("Berth's registry", () => startBerthRegistry()),
  // Distribution refuses manifests with URLs unless they match an allow list.
  registryEndpoint("Debian's docker-registry", () =>
    startDistribution({
      extraConfig: [
        "validation:",
        "  manifests:",
        "    urls:",
        "      allow:",
        "        - '^http://127\\.0\\.0\\.1:'",
      ].join("\n"),
    }),
  ),
  layoutEndpoint(),
  archiveEndpoint(),
  localStoreEndpoint(),
];

async function raw(ref: string): Promise<string> {
  return (await runOk("skopeo", ["inspect", "--raw", ref])).stdout;
}

/** Copies from an OCI layout into the endpoint, then from the endpoint into a fresh layout; returns the fresh layout. */
async function roundTrip(
  e: Endpoint,
  from: OciLayoutSource,
  reference: string,
  tag: string,
  platform?: string,
): Promise<{ dir: string; root: string }> {
  const into = await e.sink(tag);
  await transfer(from, into.sink, {
    reference,
    names: into.names,
    platform: platform ? parsePlatform(platform) : undefined,
  });
  await into.close?.();
  const back = await e.source(tag);
  const dir = await tempDir("contract-back-");
  const { root } = await transfer(back.source, new OciLayoutSink(dir), {
    reference: back.reference,
    names: [parseReference("localhost/back:t")],
  });
  return { dir, root: root.descriptor.digest };
}

let web: Awaited<ReturnType<typeof serveBlobs>>;
const served = new Map<string, Buffer>();
let crafted: string;
const images: Record<string, Blob> = {};

before(async () => {
  web = await serveBlobs(served);
  // A nested index: an outer index naming multi-1's index (which has no platform of its own)
  // and an s390x image; and an image whose second layer is kept at a URL.
  crafted = await tempDir("contract-crafted-");
  const fixture = new OciLayoutSource(fixtureLayout());
  const multi = await fixture.resolve("multi-1");
  const multiBlob: Blob = { ...multi.descriptor, bytes: multi.bytes };
  const s390x = await makeImage([{ "etc/os": "s390x\n" }], { arch: "s390x" });
  const foreign = await makeImage([{ "a.txt": "local layer\n" }, { "b.txt": "foreign layer\n" }], {
    foreign: new Map([[1, web.url("/layers/b.tar.gz")]]),
  });
  served.set("/layers/b.tar.gz", foreign.layers[1]!.bytes);
  const nested = indexOf([
    { blob: multiBlob },
    { blob: s390x.manifest, platform: { os: "linux", architecture: "s390x" } },
  ]);
  Object.assign(images, { nested, s390x: s390x.manifest, foreign: foreign.manifest });
  // Everything multi-1 names comes along, so the crafted layout stands on its own.
  const fixtureBlobs: Blob[] = [];
  for (const child of multi.parsed.kind === "index" ? multi.parsed.value.manifests : []) {
    const m = await fixture.manifest(child);
    fixtureBlobs.push({ ...child, bytes: m.bytes });
    if (m.parsed.kind !== "manifest") continue;
    for (const d of [m.parsed.value.config, ...m.parsed.value.layers]) {
      fixtureBlobs.push({ ...d, bytes: await readLayoutBlob(fixtureLayout(), d.digest) });
    }
  }
  await writeLayout(
    crafted,
    [
      multiBlob,
      ...fixtureBlobs,
      nested,
      s390x.manifest,
      s390x.config,
      ...s390x.layers,
      foreign.manifest,
      foreign.config,
      foreign.layers[0]!,
    ],
    { nested: nested, foreign: foreign.manifest },
  );
});
after(() => new Promise<void>((resolve) => web.server.close(() => resolve())));

for (const e of endpoints) {
  describe(`image source and sink contract: ${e.name}`, () => {
    before(async () => e.start?.());
    after(async () => e.stop?.());

    test("a round trip keeps the manifest and every blob", async () => {
      const { dir, root } = await roundTrip(e, new OciLayoutSource(fixtureLayout()), "app-1", "app");
      assert.equal(await raw(`oci:${dir}:t`), await raw(`oci:${fixtureLayout()}:app-1`));
      const manifest = JSON.parse(await raw(`oci:${dir}:t`)) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      for (const d of [manifest.config, ...manifest.layers]) {
        assert.deepEqual(
          await readLayoutBlob(dir, d.digest),
          await readLayoutBlob(fixtureLayout(), d.digest),
        );
      }
      assert.match(root, /^sha256:/);
    });

    test("an index, and a nested index, go through whole, or as the platform's image", async () => {
      const source = new OciLayoutSource(crafted);
      if (e.indexes) {
        const { dir, root } = await roundTrip(e, source, "nested", "nested");
        assert.equal(root, images.nested!.digest, "the outer index keeps its digest");
        assert.equal(await raw(`oci:${dir}:t`), images.nested!.bytes.toString());
        // A platform is found through the nesting, in the copy just as in the original.
        const back = await e.source("nested");
        for (const [platform, expected] of [
          ["linux/arm64", await raw(`oci:${fixtureLayout()}:app-1`)],
          ["linux/s390x", images.s390x!.bytes.toString()],
        ] as const) {
          const out = await tempDir("contract-platform-");
          await transfer(back.source, new OciLayoutSink(out), {
            reference: back.reference,
            names: [parseReference("localhost/p:t")],
            platform: parsePlatform(platform),
            unwrap: true,
          });
          assert.equal(await raw(`oci:${out}:t`), expected, platform);
        }
      } else {
        const { dir } = await roundTrip(e, source, "nested", "nested", "linux/arm64");
        assert.equal(
          await raw(`oci:${dir}:t`),
          await raw(`oci:${fixtureLayout()}:app-1`),
          "arm64's image, taken through the nesting",
        );
      }
      await assert.rejects(
        async () => {
          const into = await e.sink("none");
          await transfer(source, into.sink, {
            reference: "nested",
            names: into.names,
            platform: parsePlatform("windows/amd64"),
          });
        },
        (err: unknown) => {
          assert.ok(err instanceof PlatformNotFoundError);
          assert.match(
            err.message,
            /^no matching manifest for windows\/amd64 in the manifest list entries; available: .*linux\/s390x/,
          );
          return true;
        },
      );
    });

    test("foreign layers stay at their URLs for registries, and are fetched from them otherwise", async () => {
      const manifest = JSON.parse(images.foreign!.bytes.toString()) as {
        layers: { digest: string; urls?: string[] }[];
      };
      const foreignDigest = manifest.layers[1]!.digest;
      const hitsBefore = web.hits.get("/layers/b.tar.gz") ?? 0;
      const { dir } = await roundTrip(e, new OciLayoutSource(crafted), "foreign", "foreign");
      assert.equal(
        await raw(`oci:${dir}:t`),
        images.foreign!.bytes.toString(),
        "the manifest keeps its URLs",
      );
      assert.equal(await e.hasBlob(foreignDigest), e.foreignBlobs);
      assert.ok((web.hits.get("/layers/b.tar.gz") ?? 0) > hitsBefore, "the layer was fetched from its URL");
      assert.deepEqual(await readLayoutBlob(dir, foreignDigest), served.get("/layers/b.tar.gz"));
    });
  });
}
