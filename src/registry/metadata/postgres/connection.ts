import pg from "pg";
import { BackendUnavailableError } from "../../domain-errors.js";
import type { HeldLock } from "../metadata.js";

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections for queries. */
  poolSize: number;
  /** Connections held by uploads being written (each holds its session's advisory lock). */
  lockPoolSize: number;
}

export type Queryable = pg.Pool | pg.PoolClient;

/**
 * The connections the PostgreSQL stores share: a pool for statements and transactions, and one
 * for advisory locks, each held on a connection of its own for as long as the lock (an upload
 * being written, a collection). Connection failures become BackendUnavailableError (503).
 */
export class PgConnection {
  private readonly pool: pg.Pool;
  private readonly locks: pg.Pool;

  constructor(options: PostgresOptions) {
    const base = { connectionString: options.url, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30_000 };
    this.pool = new pg.Pool({ ...base, max: options.poolSize });
    this.locks = new pg.Pool({ ...base, max: options.lockPoolSize });
    // An idle connection dropped by the server (a restart) is replaced on the next query.
    this.pool.on("error", () => {});
    this.locks.on("error", () => {});
  }

  async query(text: string, values: unknown[], name?: string): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(name ? { name, text, values } : { text, values });
    } catch (err) {
      throw translate(err);
    }
  }

  async transaction<T>(fn: (client: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect(this.pool);
      let broken: Error | undefined;
      // A checked-out client has no listener of the pool's: without this, a connection dying
      // between two statements (the server stopped while `fn` waits on object storage) is an
      // unhandled 'error' event, and the process exits. The next statement fails instead.
      const onError = (err: Error) => {
        broken = err;
      };
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await fn(client);
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch((rollbackErr: Error) => {
          broken ??= rollbackErr;
        });
        // Deadlock or serialization failure: nothing was written, so doing it again is safe.
        const code = (err as { code?: string }).code;
        if ((code === "40P01" || code === "40001") && attempt < 3) continue;
        throw translate(err);
      } finally {
        client.removeListener("error", onError);
        client.release(broken);
      }
    }
  }

  /**
   * Takes an advisory lock on a connection of the lock pool and keeps the connection until the
   * lock is released. `take` runs the locking statement and says whether the lock was granted;
   * `refused` is thrown when it was not.
   */
  async holdLock(
    take: (client: pg.PoolClient) => Promise<boolean>,
    unlock: (client: pg.PoolClient) => Promise<unknown>,
    refused: () => Error,
  ): Promise<HeldLock> {
    const client = await this.connect(this.locks);
    const lost = new AbortController();
    let released = false;
    // The connection dying (the server stopped or restarted) takes the lock with it: the holder
    // is told through `lost`, and the dead connection leaves the pool. Unhandled, this 'error'
    // event of a checked-out client would end the process.
    const onError = (err: Error) => {
      lost.abort(translate(err));
      if (released) return;
      released = true;
      client.release(err);
    };
    client.on("error", onError);
    try {
      if (!(await take(client))) throw refused();
    } catch (err) {
      client.removeListener("error", onError);
      if (!released) {
        released = true;
        client.release(lost.signal.aborted ? (lost.signal.reason as Error) : undefined);
      }
      throw translate(err);
    }
    return {
      lost: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        try {
          await unlock(client);
          client.removeListener("error", onError);
          client.release();
        } catch (err) {
          // The connection is gone, and the lock with it.
          client.release(err as Error);
        }
      },
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.pool.end(), this.locks.end()]);
  }

  private async connect(pool: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      throw translate(err);
    }
  }
}

/** Connection failures become BackendUnavailableError (503); domain errors pass through. */
export function translate(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? "";
  if (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"].includes(code) ||
    code.startsWith("08") ||
    code === "57P01" ||
    code === "57P02" ||
    code === "57P03" ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      e?.message ?? "",
    )
  ) {
    return new BackendUnavailableError("metadata", `PostgreSQL: ${e.message ?? code}`);
  }
  return err;
}
