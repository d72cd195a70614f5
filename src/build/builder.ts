import { lstatSync, lutimesSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { imageLayerBlobs } from "../images/blobs.js";
import { type CommittedImage, chainIdOf, commitImage, recordLayer } from "../images/commit.js";
import type { LayerBlob, LayerRecord } from "../images/db.js";
import type { Lease } from "../images/leases.js";
import type { LocalStore } from "../images/local-store.js";
import type { Compression } from "../layer/compression.js";
import { createLayerFromDirectory } from "../layer/create.js";
import { Digest, digestOf } from "../oci/digest.js";
import { type ImageConfig, parseImageConfig } from "../oci/manifest.js";
import { layerCompression, MediaTypes } from "../oci/media-types.js";
import { formatPlatform, type Platform, parsePlatform, platformMatches } from "../oci/platform.js";
import { prepareAdd } from "./add.js";
import { expandAt, globalScope, PROXY_ARGS, platformArgs } from "./args.js";
import { BuildCache, cacheKey } from "./cache.js";
import {
  type CopySource,
  hashPlan,
  type PlannedEntry,
  planCopy,
  resolveChown,
  resolveTreePath,
  writePlan,
} from "./copy.js";
import { parseTrigger } from "./dockerfile.js";
import { BuildError, RunFailedError } from "./errors.js";
import {
  baseFromImage,
  type CopyStep,
  DEFAULT_PATH,
  type RunStep,
  type StageBase,
  StageEvaluator,
  type Step,
  type WorkdirStep,
} from "./evaluate.js";
import { settleHistoryTimes } from "./history.js";
import type { Dockerfile, Instruction, Location, Stage } from "./instructions.js";
import { Progress, type Vertex } from "./progress.js";
import { runInContainer, type StepRunner } from "./runner.js";
import { LayerStack, type OpaqueMemo, type SourceTree } from "./trees.js";

/**
 * The executor: builds the target stage (and only the stages it needs, each once), taking every
 * step whose key is in the cache from it and running the others: RUN in a container over the
 * stage's layers (its upper directory becomes the layer), COPY and ADD straight into a new
 * layer's directory, WORKDIR as a mkdir. Nothing is recorded as an image here: the caller
 * commits the result (or writes it out), so a failed build tags nothing.
 */

/** Finds a base image (or a COPY --from image) in the store, pulling it when missing or asked to. */
export type ImageResolver = (
  name: string,
  opts: { pull: boolean; platform: Platform },
) => Promise<{ imageId: string; pulled: boolean }>;

export interface BuildRequest {
  store: LocalStore;
  dockerfile: Dockerfile;
  /** The build context (COPY and ADD sources without --from). */
  context: SourceTree;
  /** Remember the context files' digests for the next build (a directory that stays; not an unpacked tar). */
  rememberDigests?: boolean;
  target?: string;
  buildArgs?: Map<string, string>;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  network?: "default" | "none" | "host";
  compression?: "gzip" | "zstd";
  /** SOURCE_DATE_EPOCH, in seconds. */
  epoch?: number;
  platform: Platform;
  resolveImage: ImageResolver;
  runStep?: StepRunner;
  progress?: Progress;
  /**
   * Holds every layer and blob the build uses or makes until the caller has committed the image,
   * so that a concurrent rmi or prune cannot delete them (images/leases.ts).
   */
  lease?: Lease;
}

export interface BuiltLayer {
  record: LayerRecord;
  blob: LayerBlob;
}

export interface BuildResult {
  /** The image config, as it will be stored (its sha256 is the image ID). */
  config: Buffer;
  imageId: string;
  layers: BuiltLayer[];
  /** --build-arg names no ARG used. */
  unusedArgs: string[];
}

interface StageResult {
  base: StageBase;
  layers: BuiltLayer[];
  /** The stage's own ONBUILD triggers, run by a stage built FROM it. */
  onbuild: string[];
  /** History entries inherited from the base image (kept as they are under SOURCE_DATE_EPOCH). */
  baseEntries: number;
}

export async function build(req: BuildRequest): Promise<BuildResult> {
  return new Build(req).run();
}

/** Writes a build's result as an image of the store, with its tags, in one transaction. */
export function commitBuild(
  store: LocalStore,
  result: BuildResult,
  tags: { repository: string; tag: string }[],
): Promise<CommittedImage> {
  return commitImage(store, { config: result.config, layers: result.layers, tags });
}

class Build {
  private readonly progress: Progress;
  private readonly cache: BuildCache;
  private readonly globals: Map<string, string>;
  private readonly buildArgs: Map<string, string>;
  private readonly stages = new Map<number, Promise<StageResult>>();
  private readonly building: number[] = [];
  private readonly consumed = new Set<string>();
  private readonly compression: Compression;
  private readonly runStep: StepRunner;
  private readonly epochMs: number | undefined;
  /** Layer directory → chain ID, for the opaque directories the cache remembers by chain ID. */
  private readonly chainOfDir = new Map<string, string>();
  private readonly opaqueSeen = new Map<string, Set<string>>();
  private readonly opaqueCache: OpaqueMemo = {
    get: (dir) => {
      let dirs = this.opaqueSeen.get(dir);
      const chainId = this.chainOfDir.get(dir);
      if (!dirs && chainId) {
        dirs = this.cache.opaqueDirs(chainId);
        if (dirs) this.opaqueSeen.set(dir, dirs);
      }
      return dirs;
    },
    set: (dir, dirs) => {
      this.opaqueSeen.set(dir, dirs);
      const chainId = this.chainOfDir.get(dir);
      if (chainId) this.cache.rememberOpaqueDirs(chainId, dirs);
    },
  };
  private readonly images = new Map<string, Promise<{ imageId: string; pulled: boolean }>>();

  constructor(private readonly req: BuildRequest) {
    this.progress = req.progress ?? new Progress();
    this.cache = BuildCache.open(req.store);
    this.buildArgs = req.buildArgs ?? new Map();
    const df = req.dockerfile;
    this.globals = globalScope(df.globalArgs, this.buildArgs, platformArgs(req.platform), df.escape);
    for (const a of df.globalArgs) for (const x of a.args) this.consumed.add(x.key);
    this.compression = req.compression ?? "gzip";
    this.runStep = req.runStep ?? runInContainer;
    this.epochMs = req.epoch !== undefined ? req.epoch * 1000 : undefined;
  }

  async run(): Promise<BuildResult> {
    const df = this.req.dockerfile;
    let target: Stage;
    if (this.req.target) {
      const t = df.stages.find((s) => s.name === this.req.target!.toLowerCase());
      if (!t) throw new BuildError(`target stage ${JSON.stringify(this.req.target)} could not be found`);
      target = t;
    } else {
      target = df.stages[df.stages.length - 1]!;
    }
    const result = await this.stage(target.index);
    const config = this.finalConfig(result);
    const bytes = Buffer.from(JSON.stringify(config));
    const unusedArgs = [...this.buildArgs.keys()].filter(
      (k) => !this.consumed.has(k) && !PROXY_ARGS.includes(k) && k !== "SOURCE_DATE_EPOCH",
    );
    if (unusedArgs.length > 0)
      this.progress.warn(`[Warning] One or more build-args [${unusedArgs.join(" ")}] were not consumed`);
    return { config: bytes, imageId: digestOf(bytes).toString(), layers: result.layers, unusedArgs };
  }

  /** The target's config in the field order BuildKit writes, with BuildKit's timestamps. */
  private finalConfig(result: StageResult): ImageConfig {
    const c = result.base.config;
    const epoch =
      this.epochMs !== undefined ? new Date(this.epochMs).toISOString().replace(".000Z", "Z") : undefined;
    const { history, created } = settleHistoryTimes(c.history ?? [], result.baseEntries, epoch);
    const cc = { ...(c.config ?? {}) };
    if (this.req.labels && Object.keys(this.req.labels).length > 0)
      cc.Labels = { ...(cc.Labels ?? {}), ...this.req.labels };
    const out: ImageConfig = {
      ...(created !== undefined ? { created } : {}),
      ...(c.author ? { author: c.author } : {}),
      architecture: c.architecture,
      os: c.os,
      ...(c["os.version"] ? { "os.version": c["os.version"] } : {}),
      ...(c["os.features"] ? { "os.features": c["os.features"] } : {}),
      ...(c.variant ? { variant: c.variant } : {}),
      config: orderedContainerConfig(cc),
      rootfs: { type: "layers", diff_ids: result.layers.map((l) => l.record.diffId) },
      history: history.map((h) => ({
        ...(h.created !== undefined ? { created: h.created } : {}),
        ...(h.created_by !== undefined ? { created_by: h.created_by } : {}),
        ...(h.author !== undefined ? { author: h.author } : {}),
        ...(h.comment !== undefined ? { comment: h.comment } : {}),
        ...(h.empty_layer ? { empty_layer: true } : {}),
      })),
    };
    return out;
  }

  private stage(index: number): Promise<StageResult> {
    if (this.building.includes(index)) {
      const names = [...this.building, index].map((i) => this.req.dockerfile.stages[i]!.name ?? String(i));
      throw new BuildError(`circular dependency detected on stage: ${names.join(" -> ")}`);
    }
    let p = this.stages.get(index);
    if (!p) {
      this.building.push(index);
      p = this.buildStage(this.req.dockerfile.stages[index]!).finally(() => {
        this.building.splice(this.building.indexOf(index), 1);
      });
      this.stages.set(index, p);
    }
    return p;
  }

  private stageLabel(stage: Stage): string {
    if (this.req.dockerfile.stages.length === 1) return "";
    return stage.name ?? `stage-${stage.index}`;
  }

  private async buildStage(stage: Stage): Promise<StageResult> {
    const df = this.req.dockerfile;
    const from = stage.from;
    const image = expandAt(from.image, (n) => this.globals.get(n), df.escape, from.loc);
    if (image === "") throw new BuildError(`base name (${from.image}) should not be blank`, from.loc);
    if (from.platform !== undefined)
      this.checkPlatform(
        expandAt(from.platform, (n) => this.globals.get(n), df.escape, from.loc),
        from.loc,
      );
    const parentStage = df.stages.find((s) => s.index < stage.index && s.name === image.toLowerCase());

    let base: StageBase;
    let layers: BuiltLayer[] = [];
    let triggers: string[] = [];
    let baseEntries = 0;
    let fromStep: { name: string; pulled: boolean } | undefined;
    if (parentStage) {
      const parent = await this.stage(parentStage.index);
      base = {
        config: structuredClone(parent.base.config),
        env: new Map(parent.base.env),
        args: parent.base.args.map((a) => ({ ...a })),
      };
      base.config.config = { ...(base.config.config ?? {}), OnBuild: null };
      layers = [...parent.layers];
      triggers = parent.onbuild;
      baseEntries = parent.baseEntries;
    } else if (image.toLowerCase() === "scratch") {
      base = baseFromImage({
        architecture: this.req.platform.architecture,
        os: this.req.platform.os,
        ...(this.req.platform.variant ? { variant: this.req.platform.variant } : {}),
        config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: "/" },
        rootfs: { type: "layers", diff_ids: [] },
        history: [],
      });
    } else {
      const resolved = await this.loadImage(image, from.loc);
      base = baseFromImage(resolved.config);
      triggers = resolved.config.config?.OnBuild ?? [];
      base.config.config = { ...(base.config.config ?? {}), OnBuild: null };
      layers = resolved.layers;
      baseEntries = resolved.config.history?.length ?? 0;
      fromStep = { name: resolved.display, pulled: resolved.pulled };
    }
    delete base.config.created;

    // Stages this one copies from are built first, so their steps come before the COPY's.
    for (const ins of [...stage.instructions, ...triggers.map((t) => parseTrigger(t, from.loc))]) {
      if ((ins.kind !== "COPY" && ins.kind !== "ADD") || ins.from === undefined) continue;
      const dep = this.stageByRef(ins.from, ins.loc);
      if (dep) await this.stage(dep.index);
    }
    const ev = new StageEvaluator(base, {
      escape: df.escape,
      buildArgs: this.buildArgs,
      globals: this.globals,
      network: this.req.network ?? "default",
    });
    const instructions: { ins: Instruction; onbuild: boolean }[] = [
      ...triggers.map((t) => ({ ins: parseTrigger(t, from.loc), onbuild: true })),
      ...stage.instructions.map((ins) => ({ ins, onbuild: false })),
    ];
    const total =
      (fromStep ? 1 : 0) +
      instructions.filter((i) => ["RUN", "COPY", "ADD", "WORKDIR"].includes(i.ins.kind)).length;
    const label = this.stageLabel(stage);
    let index = 0;
    const prefix = (name: string, onbuild: boolean) => {
      index++;
      const width = String(total).length;
      return `[${label ? `${label} ` : ""}${String(index).padStart(width)}/${total}] ${onbuild ? "ONBUILD " : ""}${name}`;
    };
    if (fromStep) {
      const v = this.progress.start(prefix(fromStep.name, false));
      if (fromStep.pulled) v.done();
      else v.cached();
    }
    for (const { ins, onbuild } of instructions) {
      const step = ev.apply(ins);
      if (ins.kind === "ARG") for (const a of ins.args) this.consumed.add(a.key);
      // BuildKit counts every WORKDIR in the total, but `WORKDIR /` makes no step (a gap in the numbers).
      if (!step) continue;
      const vertex = this.progress.start(prefix(step.name, onbuild));
      const built = await this.layerStep(step, layers, vertex);
      layers = [...layers, built.layer];
      ev.layerHistory(step, built.created);
    }
    for (const k of ev.consumed) this.consumed.add(k);
    ev.config.rootfs = { type: "layers", diff_ids: layers.map((l) => l.record.diffId) };
    const onbuild = stage.instructions
      .filter((i) => i.kind === "ONBUILD")
      .map((i) => (i as { expression: string }).expression);
    return { base: { config: ev.config, env: ev.env, args: ev.args }, layers, onbuild, baseEntries };
  }

  private checkPlatform(text: string, loc: Location): void {
    let wanted: Platform;
    try {
      wanted = parsePlatform(text);
    } catch (err) {
      throw new BuildError(`failed to parse platform ${text}: ${(err as Error).message}`, loc);
    }
    if (!platformMatches(wanted, this.req.platform))
      throw new BuildError(
        `platform ${formatPlatform(wanted)} is not supported: Berth builds for this machine's platform only (${formatPlatform(this.req.platform)})`,
        loc,
      );
  }

  /** A base or --from image: resolved (pulled if needed) once per build, with its layers and their blobs. */
  private async loadImage(
    name: string,
    loc: Location,
  ): Promise<{
    config: ImageConfig;
    layers: BuiltLayer[];
    display: string;
    imageId: string;
    pulled: boolean;
  }> {
    let resolving = this.images.get(name);
    if (!resolving) {
      const v = this.progress.start(`[internal] load metadata for ${displayName(name)}`);
      resolving = v.run(() =>
        this.req.resolveImage(name, { pull: this.req.pull ?? false, platform: this.req.platform }),
      );
      this.images.set(name, resolving);
    }
    let imageId: string;
    let pulled: boolean;
    try {
      ({ imageId, pulled } = await resolving);
    } catch (err) {
      if (err instanceof BuildError) throw err;
      throw new BuildError(`${name}: ${(err as Error).message}`, loc);
    }
    const store = this.req.store;
    const records = store.db.imageLayers(imageId);
    store.db.write(() => {
      this.hold("blob", imageId);
      for (const r of records) this.hold("layer", r.chainId);
    });
    const config = parseImageConfig(await store.content.readAll(Digest.parse(imageId)));
    const blobs = await this.imageBlobs(imageId, config);
    store.db.write(() => {
      for (const b of blobs) this.hold("blob", b.digest);
    });
    const layers = records.map((record, i) => ({ record, blob: blobs[i]! }));
    const manifest = store.db.manifestsOf(imageId)[0]?.digest;
    const display = `FROM ${displayName(name)}${manifest && !name.includes("@") ? `@${manifest}` : ""}`;
    return { config, layers, display, imageId, pulled };
  }

  /** The blob of each layer of an image, as a push of the built image will send them. */
  private async imageBlobs(imageId: string, config: ImageConfig): Promise<LayerBlob[]> {
    const blobs = await imageLayerBlobs(this.req.store, imageId, config.rootfs.diff_ids);
    if (!blobs) throw new BuildError(`a layer of image ${imageId} has no blob in the store to build on`);
    return blobs;
  }

  private hold(kind: "layer" | "blob", key: string): void {
    this.req.lease?.hold(kind, key);
  }

  private layerDirs(layers: BuiltLayer[]): string[] {
    return layers.map((l) => {
      const dir = this.req.store.layerDiffDir(l.record.chainId);
      this.chainOfDir.set(dir, l.record.chainId);
      return dir;
    });
  }

  private stack(layers: BuiltLayer[]): LayerStack {
    return new LayerStack(this.layerDirs(layers), this.opaqueCache);
  }

  /** Runs (or takes from the cache) one step that makes a layer. */
  private async layerStep(
    step: Step,
    layers: BuiltLayer[],
    vertex: Vertex,
  ): Promise<{ layer: BuiltLayer; created: string }> {
    const store = this.req.store;
    const parentChain = layers.at(-1)?.record.chainId ?? null;
    await mkdir(store.tmpDir(), { recursive: true });
    const tmp = await mkdtemp(join(store.tmpDir(), "step-"));
    const diff = join(tmp, "diff");
    const scratch = join(tmp, "scratch");
    try {
      await mkdir(diff);
      let write: () => Promise<void>;
      let key: string;
      const action = step.action;
      if (action.kind === "run") {
        key = cacheKey(parentChain, action);
        write = () => this.runProcess(action, layers, diff, scratch, step, vertex);
      } else if (action.kind === "copy") {
        const plan = await this.planCopyStep(action, layers, scratch, step.loc);
        key = cacheKey(
          parentChain,
          action,
          await hashPlan(plan, this.req.rememberDigests ? this.cache.fileDigests : undefined),
        );
        write = () => writePlan(plan, diff, this.epochMs);
      } else {
        const plan = this.planWorkdir(action, layers, step.loc);
        key = cacheKey(parentChain, action, await hashPlan(plan));
        write = () => writePlan(plan, diff, this.epochMs);
      }
      if (!this.req.noCache) {
        const hit = this.cache.lookup(key);
        if (hit) this.hold("layer", hit.chainId);
        if (hit) {
          const blob = await this.blobFor(hit.diffId, hit.chainId);
          const record = store.db.layer(hit.chainId);
          if (blob) this.hold("blob", blob.digest);
          if (blob && record) {
            vertex.cached();
            return { layer: { record, blob }, created: this.clampTime(hit.created) };
          }
        }
      }
      const startedAt = Date.now();
      await write();
      await rm(scratch, { recursive: true, force: true });
      if (this.epochMs !== undefined && action.kind === "run") clampTree(diff, this.epochMs);
      const layer = await this.finishLayer(tmp, parentChain);
      const created = this.clampTime(new Date(startedAt).toISOString());
      this.cache.put({
        key,
        chainId: layer.record.chainId,
        diffId: layer.record.diffId,
        created,
        description: step.name,
        size: layer.record.size,
      });
      vertex.done();
      return { layer, created };
    } catch (err) {
      vertex.fail(err instanceof BuildError ? err.detail : (err as Error).message);
      throw err;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private clampTime(iso: string): string {
    if (this.epochMs === undefined || Date.parse(iso) <= this.epochMs) return iso;
    return new Date(this.epochMs).toISOString().replace(".000Z", "Z");
  }

  private async runProcess(
    action: RunStep,
    layers: BuiltLayer[],
    diff: string,
    scratch: string,
    step: Step,
    vertex: Vertex,
  ): Promise<void> {
    const status = await this.runStep({
      lowerDirs: this.layerDirs(layers),
      upperDir: diff,
      scratchDir: scratch,
      args: action.args,
      env: [...action.env, ...action.proxyEnv],
      user: action.user,
      workdir: action.workdir,
      network: action.network as "default" | "none" | "host",
      output: (stream, chunk) => vertex.log(stream, chunk),
    });
    if (status !== 0) throw new RunFailedError(action.args, status, step.loc);
  }

  private async planCopyStep(action: CopyStep, layers: BuiltLayer[], scratch: string, loc: Location) {
    let source: CopySource;
    if (action.from !== undefined) {
      const tree = await this.fromTree(action.from, loc);
      source = { tree: tree.tree, confine: false, keepOwners: true, what: tree.what };
    } else {
      source = { tree: this.req.context, confine: true, keepOwners: false, what: "the build context" };
    }
    const lower = this.stack(layers);
    const chown = action.chown !== undefined ? resolveChown(action.chown, lower, loc) : undefined;
    let sources = action.sources;
    let extra: Awaited<ReturnType<typeof prepareAdd>>["extra"] = [];
    if (action.add) ({ sources, extra } = await prepareAdd(action, source, scratch, loc));
    return planCopy({ ...action, sources }, source, {
      lower,
      ...(chown ? { chown } : {}),
      nowMs: Date.now(),
      loc,
      extra,
    });
  }

  /** COPY --from=NAME or --from=INDEX: the stage it names, if it names one. */
  private stageByRef(from: string, loc: Location): Stage | undefined {
    const stages = this.req.dockerfile.stages;
    const byName = stages.find((s) => s.name === from.toLowerCase());
    if (byName) return byName;
    if (!/^\d+$/.test(from)) return undefined;
    const byIndex = stages[Number(from)];
    if (!byIndex) throw new BuildError(`invalid stage index ${from}`, loc);
    return byIndex;
  }

  /** COPY --from: a stage by name or index (built first), else an image. */
  private async fromTree(from: string, loc: Location): Promise<{ tree: SourceTree; what: string }> {
    const stage = this.stageByRef(from, loc);
    if (stage) {
      const result = await this.stage(stage.index);
      return { tree: this.stack(result.layers), what: `stage ${stage.name ?? stage.index}` };
    }
    const image = await this.loadImage(from, loc);
    return { tree: this.stack(image.layers), what: `image ${from}` };
  }

  /** WORKDIR: the directories of the path that do not exist yet, owned by the stage's USER. */
  private planWorkdir(action: WorkdirStep, layers: BuiltLayer[], loc: Location) {
    const lower = this.stack(layers);
    // As BuildKit's mkdir: a USER the image does not know owns nothing; root does.
    let ids = { uid: 0, gid: 0 };
    if (action.user) {
      try {
        ids = resolveChown(action.user, lower, loc);
      } catch (err) {
        if (!(err instanceof BuildError)) throw err;
      }
    }
    const resolved = resolveTreePath(lower, action.path.replace(/^\/+/, ""), {
      followFinal: true,
      confine: false,
      what: "the image",
      original: action.path,
    });
    const entries: PlannedEntry[] = [];
    const parts = resolved.rel.split("/").filter(Boolean);
    let missing = false;
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join("/");
      const below = lower.entry(p);
      if (below?.stat.isDirectory()) {
        const st = below.stat;
        entries.push({
          dest: p,
          type: "dir",
          mode: st.mode & 0o7777,
          uid: st.uid,
          gid: st.gid,
          mtimeMs: st.mtimeMs,
          existing: true,
        });
      } else {
        missing = true;
        entries.push({ dest: p, type: "dir", mode: 0o755, ...ids, mtimeMs: Date.now() });
      }
    }
    return { entries: missing ? entries : [] };
  }

  /** The layer's blob in the build's compression: recorded, or made again from its directory. */
  private async blobFor(diffId: string, chainId: string): Promise<LayerBlob | undefined> {
    const store = this.req.store;
    for (const b of store.db.layerBlobs(diffId))
      if (
        layerCompression(b.mediaType) === this.compression &&
        (await store.content.has(Digest.parse(b.digest)))
      )
        return b;
    const { stream, result } = createLayerFromDirectory(store.layerDiffDir(chainId), {
      compression: this.compression,
    });
    const { digest, size } = await store.content.writeNew(stream);
    const made = await result;
    if (made.diffId !== diffId) return undefined;
    const blob: LayerBlob = {
      diffId,
      digest: digest.toString(),
      mediaType: mediaTypeOf(this.compression),
      size,
    };
    store.db.write(() => store.db.addLayerBlob(blob));
    return blob;
  }

  private async finishLayer(tmp: string, parentChain: string | null): Promise<BuiltLayer> {
    const store = this.req.store;
    const { stream, result } = createLayerFromDirectory(join(tmp, "diff"), { compression: this.compression });
    const { digest, size } = await store.content.writeNew(stream);
    const made = await result;
    const blob: LayerBlob = {
      diffId: made.diffId,
      digest: digest.toString(),
      mediaType: mediaTypeOf(this.compression),
      size,
    };
    this.hold("blob", blob.digest);
    this.hold("layer", chainIdOf(parentChain, made.diffId));
    if (!(await store.content.has(digest)))
      throw new BuildError(`the new layer's blob ${blob.digest} was removed while it was being recorded`);
    const record = await recordLayer(store, {
      dir: tmp,
      diffId: made.diffId,
      parent: parentChain,
      size: made.contentSize,
      blob,
    });
    return { record, blob };
  }
}

function mediaTypeOf(c: Compression): string {
  return c === "zstd"
    ? MediaTypes.OCI_LAYER_ZSTD
    : c === "gzip"
      ? MediaTypes.OCI_LAYER_GZIP
      : MediaTypes.OCI_LAYER;
}

/** "busybox" as BuildKit names it: docker.io/library/busybox:latest. */
function displayName(name: string): string {
  const hasTag = /:[^/]+$/.test(name.replace(/@.*$/, ""));
  const withTag = hasTag || name.includes("@") ? name : `${name}:latest`;
  const first = withTag.split("/")[0]!;
  const hasRegistry =
    withTag.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return withTag;
  return withTag.includes("/") ? `docker.io/${withTag}` : `docker.io/library/${withTag}`;
}

/** SOURCE_DATE_EPOCH for a RUN's files: nothing in the layer is newer than the epoch. */
function clampTree(dir: string, limitMs: number): void {
  const t = limitMs / 1000;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      if (st.mtimeMs > limitMs) lutimesSync(p, t, t);
    }
  };
  walk(dir);
}

/** The container config in Go's field order (image-spec ImageConfig, then Docker's extensions), empty fields left out. */
function orderedContainerConfig(c: NonNullable<ImageConfig["config"]>): NonNullable<ImageConfig["config"]> {
  const out: Record<string, unknown> = {};
  const keys = [
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "ArgsEscaped",
    "Healthcheck",
    "OnBuild",
    "Shell",
  ] as const;
  for (const k of keys) {
    const v = (c as Record<string, unknown>)[k];
    if (v === undefined || v === null || v === "" || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
    out[k] = v;
  }
  return out as NonNullable<ImageConfig["config"]>;
}
