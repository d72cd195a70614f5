import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/helpers). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}

export function fixtureDir(): string {
  const dir = join(repoRoot(), ".fixtures/images");
  if (!existsSync(join(dir, "MANIFEST.txt"))) {
    throw new Error(`test images missing in ${dir}: run \`node dist/scripts/fixtures.js\` (npm test does)`);
  }
  return dir;
}

/** The OCI layout holding busybox-1, app-1 and multi-1 (skopeo: oci:DIR:TAG). */
export function fixtureLayout(): string {
  return join(fixtureDir(), "oci");
}

export interface FixtureEntry {
  tag: string;
  mediaType: string;
  digest: string;
}

export function fixtureManifest(): FixtureEntry[] {
  return readFileSync(join(fixtureDir(), "MANIFEST.txt"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [tag, mediaType, digest] = line.trim().split(/\s+/);
      return { tag: tag!, mediaType: mediaType!, digest: digest! };
    });
}
