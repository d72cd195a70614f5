import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Cluster, startCluster } from "../helpers/cluster.js";
import { repoRoot } from "../helpers/fixtures.js";
import { run } from "../helpers/processes.js";
import type { GcHarness } from "../registry/gc-scenario.js";

/**
 * The scaled setup the cluster test files share (registry-cluster.test.ts and
 * registry-cluster-load.test.ts, split so that each stays well inside the runner's per-file limit
 * on a loaded machine): scripts/cluster.sh with two Berth replicas over Ceph radosgw and
 * PostgreSQL, haproxy in front, started once per file.
 */
export interface Scaled {
  cluster: Cluster;
  /** haproxy's URL */
  lb: string;
  r1: string;
  r2: string;
  /** `berth registry gc --config` of the cluster, for the shared GC scenarios. */
  gc: GcHarness;
}

export async function startScaled(): Promise<Scaled> {
  const cluster = await startCluster(2);
  const [r1, r2] = cluster.replicas.map((r) => r.url) as [string, string];
  const gc: GcHarness = {
    bases: [r1, r2],
    runGc: (args) =>
      run(process.execPath, [
        join(repoRoot(), "bin/berth.js"),
        "registry",
        "gc",
        "--config",
        cluster.configFile,
        ...args,
      ]),
  };
  return { cluster, lb: cluster.url!, r1, r2, gc };
}

/** Per-test limits: a hang fails its test by name, well inside the file's limit. */
export const STEP = { timeout: 120_000 };
/** The cluster's start: Ceph is slow to come up on a loaded machine, and is tried twice. */
export const CLUSTER_START = { timeout: 280_000 };

export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  stepMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(stepMs);
  }
}

/** Every blob digest an image (or index) in an OCI layout references, manifests included. */
export async function referencedBlobs(layout: string, digest: string): Promise<string[]> {
  const raw = await readFile(join(layout, "blobs/sha256", digest.slice(7)));
  const doc = JSON.parse(raw.toString()) as {
    manifests?: { digest: string }[];
    config?: { digest: string };
    layers?: { digest: string }[];
  };
  const out = [digest];
  for (const m of doc.manifests ?? []) out.push(...(await referencedBlobs(layout, m.digest)));
  if (doc.config) out.push(doc.config.digest);
  for (const l of doc.layers ?? []) out.push(l.digest);
  return out;
}
