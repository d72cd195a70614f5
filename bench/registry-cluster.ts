/**
 * The scaled registry against CNCF distribution on the same object storage, in one run:
 * scripts/cluster.sh starts Ceph radosgw, PostgreSQL and two Berth replicas behind haproxy;
 * Debian's docker-registry runs with its s3 driver on the same radosgw (its own bucket, blobs
 * streamed through it as Berth's are: redirect disabled). Also measured: one Berth replica
 * directly (no haproxy) and Berth's single-node filesystem setup, to show what the shared
 * metadata and the load balancer cost.
 *
 *   npm run build && node dist/scripts/fixtures.js --big
 *   node dist/bench/registry-cluster.js [--duration 8] [--rounds 2] [--pushes 3]
 *
 * Push: `skopeo copy` of big-1 into an empty registry: before each push every Berth replica is
 * restarted on a fresh key prefix and a fresh PostgreSQL database, and docker-registry on a fresh
 * bucket, so nothing is there yet. Reads: wrk with 32 connections on a manifest by tag and on
 * tags/list, 4 connections on the largest layer; medians of alternating rounds.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { request } from "undici";
import { S3Driver } from "../src/storage/s3.js";
import { startCluster } from "../test/helpers/cluster.js";
import { repoRoot } from "../test/helpers/fixtures.js";
import {
  cleanup,
  freePort,
  run,
  runOk,
  start,
  startBerthRegistry,
  tempDir,
} from "../test/helpers/processes.js";
import { median } from "./measure.js";
import { type ReadTargets, readTargets } from "./read-targets.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "8" },
    pushes: { type: "string", default: "3" },
    rounds: { type: "string", default: "2" },
  },
});
const duration = `${args.duration}s`;
const REPO = "bench/big";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
type Peer = "cluster" | "replica" | "single" | "distribution";
const PEERS: Peer[] = ["cluster", "replica", "single", "distribution"];

async function main(): Promise<void> {
  const layout = join(repoRoot(), ".fixtures/images-big/oci");
  await readFile(join(layout, "index.json")).catch(() => {
    throw new Error("no big fixture: run `node dist/scripts/fixtures.js --big` first");
  });
  const cluster = await startCluster(2);
  stopCluster = () => cluster.down();
  const env = cluster.env;
  const s3 = (bucket: string, rootDirectory = "/") =>
    new S3Driver({
      endpoint: env.S3_ENDPOINT!,
      region: "us-east-1",
      bucket,
      accessKey: env.AWS_ACCESS_KEY_ID!,
      secretKey: env.AWS_SECRET_ACCESS_KEY!,
      forcePathStyle: true,
      rootDirectory,
      partSize: 8 * 1024 * 1024,
      createBucket: true,
    });
  const baseConfig = await readFile(cluster.configFile, "utf8");
  const admin = new pg.Client({ connectionString: env.PG_URL });
  admin.on("error", () => {});
  await admin.connect();

  let distribution: { host: string; stop(): Promise<unknown> } | undefined;
  let single: Awaited<ReturnType<typeof startBerthRegistry>> | undefined;
  const hosts: Partial<Record<Peer, string>> = {};
  const hostOf = (url: string) => url.slice("http://".length);

  /** Fresh, empty storage and metadata for the replicas (a new key prefix and database). */
  const freshCluster = async (n: number) => {
    const db = `bench_${n}`;
    await admin.query(`CREATE DATABASE ${db}`);
    const config = baseConfig
      .replace(/url: (postgres:\/\/[^\n]*\/)berth/, `url: $1${db}`)
      .replace(/forcePathStyle: true/, `forcePathStyle: true\n    rootDirectory: /run-${n}`);
    await writeFile(cluster.configFile, config);
    for (const k of [1, 2]) {
      await cluster.kill(`replica-${k}`);
      await cluster.start(`replica-${k}`);
    }
    for (const url of [...cluster.replicas.map((r) => r.url), cluster.url!]) await waitFor(`${url}/v2/`);
    hosts.cluster = hostOf(cluster.url!);
    hosts.replica = hostOf(cluster.replicas[0]!.url);
  };
  const freshDistribution = async (n: number) => {
    await distribution?.stop();
    const bucket = `distribution-${n}`;
    await s3(bucket).open();
    distribution = await startDistributionS3(env, bucket);
    hosts.distribution = distribution.host;
  };
  const freshSingle = async () => {
    await single?.stop();
    single = await startBerthRegistry();
    hosts.single = single.host;
  };

  // Warm up radosgw (pool creation makes the first writes slow).
  await s3("warmup").open();
  await s3("warmup").putContent("/x", Buffer.alloc(1024 * 1024));

  const pushTimes: Record<Peer, number[]> = { cluster: [], replica: [], single: [], distribution: [] };
  for (let i = 0; i < Number(args.pushes); i++) {
    await freshCluster(i);
    await freshDistribution(i);
    await freshSingle();
    for (const peer of ["cluster", "single", "distribution"] as const) {
      const t0 = performance.now();
      await runOk("skopeo", [
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        `oci:${layout}:big-1`,
        `docker://${hosts[peer]}/${REPO}:1`,
      ]);
      pushTimes[peer].push((performance.now() - t0) / 1000);
    }
  }

  const urls: Partial<Record<Peer, ReadTargets>> = {};
  for (const peer of PEERS) {
    // The replica shares the cluster's metadata: its tags are the cluster's.
    urls[peer] = await readTargets(`http://${hosts[peer]}`, REPO, peer === "replica" ? 0 : 50);
  }
  const samples: Record<Peer, Record<string, number[]>> = {
    cluster: {},
    replica: {},
    single: {},
    distribution: {},
  };
  const sample = (peer: Peer, key: string, value: number) => {
    samples[peer][key] = [...(samples[peer][key] ?? []), value];
  };
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const peer of PEERS) {
      const u = urls[peer]!;
      sample(peer, "manifestRps", await wrkRequestsPerSecond(u.manifest, 32, [`Accept: ${OCI_MANIFEST}`]));
      sample(peer, "tagsRps", await wrkRequestsPerSecond(u.tags, 32));
      sample(peer, "blobMBps", await wrkTransferMBps(u.blob, 4));
    }
  }
  const m = (peer: Peer, key: string) => median(samples[peer][key]!);
  const push = (peer: Peer) => median(pushTimes[peer]);
  console.log(
    `| measure | berth, 2 replicas + haproxy | distribution (s3) | berth advantage | target | one replica, direct | berth single node (filesystem) |`,
  );
  console.log("| --- | ---: | ---: | ---: | --- | ---: | ---: |");
  const row = (what: string, c: number, d: number, ratio: number, target: string, r: string, s: number) =>
    console.log(`| ${what} | ${fmt(c)} | ${fmt(d)} | ${ratio.toFixed(2)}x | ${target} | ${r} | ${fmt(s)} |`);
  row(
    "push big-1, empty (s)",
    push("cluster"),
    push("distribution"),
    push("distribution") / push("cluster"),
    ">= 1.2x",
    "",
    push("single"),
  );
  for (const [key, what, target] of [
    ["manifestRps", "manifest GET by tag (req/s)", ">= 5x"],
    ["tagsRps", "tags/list GET (req/s)", ""],
    ["blobMBps", "blob GET (MB/s)", ">= 1.0x"],
  ] as const) {
    row(
      what,
      m("cluster", key),
      m("distribution", key),
      m("cluster", key) / m("distribution", key),
      target,
      fmt(m("replica", key)),
      m("single", key),
    );
  }
  console.log(`\npushes: ${JSON.stringify(pushTimes)}`);
  console.log(`samples: ${JSON.stringify(samples)}`);
  await admin.end();
  await distribution?.stop();
  await single?.stop();
  await cluster.down();
}

async function startDistributionS3(env: Record<string, string>, bucket: string) {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  s3:",
    `    accesskey: ${env.AWS_ACCESS_KEY_ID}`,
    `    secretkey: ${env.AWS_SECRET_ACCESS_KEY}`,
    "    region: us-east-1",
    `    regionendpoint: ${env.S3_ENDPOINT}`,
    `    bucket: ${bucket}`,
    "    secure: false",
    "    v4auth: true",
    "  redirect:",
    "    disable: true",
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
  ].join("\n");
  const file = join(await tempDir("distribution-s3-"), "config.yml");
  await writeFile(file, config);
  // This machine sets AWS_CA_BUNDLE, which the Go SDK cannot load into distribution's transport.
  const proc = start("docker-registry", ["serve", file], { env: { AWS_CA_BUNDLE: undefined } });
  await waitFor(`http://${host}/v2/`).catch(async (err: Error) => {
    await proc.kill();
    throw new Error(`${err.message}\n${proc.logs()}`);
  });
  return {
    host,
    stop: async () => {
      await proc.stop();
    },
  };
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(url);
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function wrk(url: string, connections: number, headers: string[] = []): Promise<string> {
  const hdrArgs = headers.flatMap((h) => ["-H", h]);
  const res = await run("wrk", ["-t2", `-c${connections}`, `-d${duration}`, ...hdrArgs, url]);
  if (res.code !== 0) throw new Error(`wrk failed: ${res.stderr}`);
  if (/Non-2xx or 3xx responses/.test(res.stdout))
    throw new Error(`wrk saw errors for ${url}:\n${res.stdout}`);
  return res.stdout;
}

async function wrkRequestsPerSecond(
  url: string,
  connections: number,
  headers: string[] = [],
): Promise<number> {
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(await wrk(url, connections, headers))?.[1]);
}

async function wrkTransferMBps(url: string, connections: number): Promise<number> {
  const out = await wrk(url, connections);
  const m = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB)/.exec(out);
  if (!m) throw new Error(`no transfer rate in wrk output:\n${out}`);
  return Number(m[1]) * { KB: 1 / 1024, MB: 1, GB: 1024 }[m[2] as "KB" | "MB" | "GB"];
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}

let stopCluster = async () => {};

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopCluster();
    await cleanup();
  });
