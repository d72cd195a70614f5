import { createRequire } from "node:module";

type Undici = typeof import("undici");

/**
 * The two parts of undici the transport uses, its Agent and its redirect interceptor, loaded
 * without the rest of the package. undici's index loads fetch, WebSocket, EventSource, the
 * cache stores and the mock agents too: some 110 modules, about 100 ms of every `berth push` or
 * `pull`, spent before the first request. These files are undici 7's layout (package.json asks
 * for ^7); were they to move, the whole package is loaded instead, as before.
 */
function load(): {
  Agent: Undici["Agent"];
  redirect: Undici["interceptors"]["redirect"];
  /** Whether these parts were loaded alone (false: from the whole package). */
  alone: boolean;
} {
  const require = createRequire(import.meta.url);
  try {
    const Agent = require("undici/lib/dispatcher/agent.js") as Undici["Agent"];
    const redirect = require("undici/lib/interceptor/redirect.js") as Undici["interceptors"]["redirect"];
    // What undici's index does to give every dispatcher request(), stream() and the rest.
    const Dispatcher = require("undici/lib/dispatcher/dispatcher.js") as { prototype: object };
    Object.assign(Dispatcher.prototype, require("undici/lib/api/index.js"));
    if (typeof Agent !== "function" || typeof redirect !== "function") throw new Error("unexpected layout");
    return { Agent, redirect, alone: true };
  } catch {
    const undici = require("undici") as Undici;
    return { Agent: undici.Agent, redirect: undici.interceptors.redirect, alone: false };
  }
}

export const { Agent, redirect, alone } = load();
