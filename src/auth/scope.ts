import { ScopeError } from "./errors.js";

/**
 * A resource scope of Docker's token protocol: `repository:NAME:pull,push`, `registry:catalog:*`,
 * or with a resource class, `repository(plugin):NAME:pull`.
 */
export interface Scope {
  type: string;
  class?: string;
  name: string;
  actions: string[];
}

const TYPE = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/;
const ACTION = /^(?:[a-z]*|\*)$/;

/**
 * Parses one scope. The name may itself hold a colon (a registry host with a port), so the type
 * ends at the first colon and the actions start after the last one.
 */
export function parseScope(text: string): Scope {
  const first = text.indexOf(":");
  const last = text.lastIndexOf(":");
  if (first < 0 || last === first)
    throw new ScopeError(`invalid scope "${text}": expected TYPE:NAME:ACTIONS`);
  const type = TYPE.exec(text.slice(0, first));
  if (!type) throw new ScopeError(`invalid scope "${text}": bad resource type`);
  const name = text.slice(first + 1, last);
  if (name === "" || /\s/.test(name)) throw new ScopeError(`invalid scope "${text}": bad resource name`);
  const actions = text
    .slice(last + 1)
    .split(",")
    .filter((a) => a !== "");
  for (const action of actions) {
    if (!ACTION.test(action)) throw new ScopeError(`invalid scope "${text}": bad action "${action}"`);
  }
  const scope: Scope = { type: type[1]!, name, actions: [...new Set(actions)] };
  if (type[2] !== undefined) scope.class = type[2];
  return scope;
}

/**
 * Parses every `scope` parameter of a request; one parameter may hold several scopes separated
 * by spaces. Scopes naming the same resource are merged.
 */
export function parseScopes(params: readonly string[]): Scope[] {
  const merged = new Map<string, Scope>();
  for (const param of params) {
    for (const text of param.split(" ")) {
      if (text === "") continue;
      const scope = parseScope(text);
      const key = `${scope.type}:${scope.name}`;
      const seen = merged.get(key);
      if (seen) seen.actions = [...new Set([...seen.actions, ...scope.actions])];
      else merged.set(key, scope);
    }
  }
  return [...merged.values()];
}

export function formatScope(scope: Scope): string {
  const type = scope.class === undefined ? scope.type : `${scope.type}(${scope.class})`;
  return `${type}:${scope.name}:${scope.actions.join(",")}`;
}
