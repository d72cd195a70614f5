/**
 * Builds the test images once with scripts/make-images.sh (buildah, root) into .fixtures/images,
 * or with --big into .fixtures/images-big (benchmarks), or with --debian (scripts/make-debian.sh,
 * debootstrap from Debian's mirror) into .fixtures/images-debian (scout's tests and benchmark). Skips the work when the script has not
 * changed since the last build; builds into a temporary directory and renames it into place, so
 * an interrupted run never leaves half a fixture set.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const big = process.argv.includes("--big");
const debian = process.argv.includes("--debian");
const script = join(repo, debian ? "scripts/make-debian.sh" : "scripts/make-images.sh");
const target = join(repo, ".fixtures", debian ? "images-debian" : big ? "images-big" : "images");
const tools = debian ? ["debootstrap", "buildah", "skopeo"] : ["buildah", "skopeo", "busybox"];
const stamp = createHash("sha256")
  .update(readFileSync(script))
  .update(big ? "big" : "")
  .digest("hex");
const stampFile = join(target, ".stamp");
if (
  existsSync(join(target, "MANIFEST.txt")) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, "utf8") === stamp
) {
  console.error(`fixtures: ${target} is up to date`);
  process.exit(0);
}
for (const tool of tools) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    console.error(
      `fixtures: ${tool} is missing: apt-get install -y ${tools.join(" ").replace("busybox", "busybox-static")}`,
    );
    process.exit(1);
  }
}
mkdirSync(dirname(target), { recursive: true });
const tmp = `${target}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
console.error(`fixtures: building test images with ${script}${big && !debian ? " --big" : ""} ...`);
const result = spawnSync("bash", [script, tmp, ...(big && !debian ? ["--big"] : [])], {
  stdio: ["ignore", "inherit", "inherit"],
});
if (result.status !== 0) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`fixtures: make-images.sh failed (exit ${result.status})`);
  process.exit(1);
}
writeFileSync(join(tmp, ".stamp"), stamp);
rmSync(target, { recursive: true, force: true });
renameSync(tmp, target);
console.error(`fixtures: ready in ${target}`);
