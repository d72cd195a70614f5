/** What pull and push report about each layer, in Docker's words; the CLI decides how to show it. */
export type LayerStatus =
  | "Pulling fs layer"
  | "Waiting"
  | "Downloading"
  | "Verifying Checksum"
  | "Download complete"
  | "Extracting"
  | "Pull complete"
  | "Already exists"
  | "Preparing"
  | "Pushing"
  | "Pushed"
  | "Layer already exists"
  | "Mounted from";

export interface LayerProgress {
  /** Docker's short layer id: the first 12 hex digits of the blob digest. */
  id: string;
  status: LayerStatus;
  current?: number;
  total?: number;
  /** For "Mounted from": the source repository. */
  detail?: string;
}

export type ProgressListener = (event: LayerProgress) => void;

export function shortId(digest: string): string {
  return digest.replace(/^[a-z0-9]+:/, "").slice(0, 12);
}

/** Runs tasks with at most `limit` at once, preserving result order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  async function worker(): Promise<void> {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed ??= err;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
  return results;
}
