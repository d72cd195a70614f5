import { isValidRepositoryName } from "../oci/reference.js";
import { GlobError } from "./errors.js";

export const ACTIONS = ["pull", "push", "delete"] as const;
export type Action = (typeof ACTIONS)[number] | "*";

export interface AccessRule {
  /** Globs: `*` matches within one path component, `**` across components. */
  repositories: string[];
  /** Users the rule applies to; "*" is any authenticated user. */
  users: string[];
  groups: string[];
  /** Everyone, signed in or not, may pull the matching repositories (anonymous callers only pull). */
  anonymous: boolean;
  actions: Action[];
}

export interface AccessPolicyConfig {
  groups: Record<string, string[]>;
  /** Undefined: any authenticated user may do everything, anonymous callers nothing. */
  rules?: AccessRule[];
}

/** The caller: a user name, or undefined when anonymous. */
export type Identity = string | undefined;

interface CompiledRule extends AccessRule {
  patterns: RegExp[];
}

/**
 * Who may do what to which repository. Rules do not shadow each other: a caller gets the union
 * of the actions of every rule that matches both the caller and the repository.
 */
export class AccessPolicy {
  private readonly rules?: CompiledRule[];
  private readonly memberOf = new Map<string, Set<string>>();

  constructor(config: AccessPolicyConfig) {
    for (const [group, members] of Object.entries(config.groups)) {
      for (const user of members) {
        const groups = this.memberOf.get(user) ?? new Set<string>();
        groups.add(group);
        this.memberOf.set(user, groups);
      }
    }
    this.rules = config.rules?.map((rule) => ({ ...rule, patterns: rule.repositories.map(compileGlob) }));
  }

  /** Whether some rule lets anonymous callers in at all (they may then reach /v2/ and the catalog). */
  get allowsAnonymous(): boolean {
    return this.rules?.some((rule) => rule.anonymous && grantsPull(rule.actions)) ?? false;
  }

  /** Whether the caller may use registry-wide endpoints (/v2/, the catalog): signed in, or anonymous allowed. */
  admits(identity: Identity): boolean {
    return identity !== undefined || this.allowsAnonymous;
  }

  /**
   * The actions the caller may perform on a repository ("*" is expanded). A name that is not a
   * repository name gets none: `public/**` must not grant "public/../secret" (a token scope or a
   * mount's `from` is any string the client sends).
   */
  allowedActions(identity: Identity, repository: string): Set<Exclude<Action, "*">> {
    const granted = new Set<Exclude<Action, "*">>();
    if (!isValidRepositoryName(repository)) return granted;
    if (!this.rules) {
      if (identity !== undefined) for (const action of ACTIONS) granted.add(action);
      return granted;
    }
    for (const rule of this.rules) {
      if (!rule.patterns.some((re) => re.test(repository))) continue;
      if (identity !== undefined && this.names(rule, identity)) {
        for (const action of rule.actions) {
          if (action === "*") for (const a of ACTIONS) granted.add(a);
          else granted.add(action);
        }
      }
      if (rule.anonymous && grantsPull(rule.actions)) granted.add("pull");
    }
    return granted;
  }

  allows(identity: Identity, repository: string, action: Exclude<Action, "*">): boolean {
    return this.allowedActions(identity, repository).has(action);
  }

  private names(rule: AccessRule, user: string): boolean {
    if (rule.users.includes("*") || rule.users.includes(user)) return true;
    const groups = this.memberOf.get(user);
    return groups !== undefined && rule.groups.some((g) => groups.has(g));
  }
}

function grantsPull(actions: readonly Action[]): boolean {
  return actions.includes("pull") || actions.includes("*");
}

// Repository name components are lowercase letters, digits and separators; a glob adds `*`.
const GLOB_COMPONENT = /^[a-z0-9._*-]+$/;

/** Compiles a repository glob: `*` stays within one path component, `**` crosses components. */
export function compileGlob(pattern: string): RegExp {
  if (pattern === "") throw new GlobError("an empty repository pattern matches nothing");
  for (const component of pattern.split("/")) {
    if (component === "") throw new GlobError(`repository pattern "${pattern}" has an empty path component`);
    if (!GLOB_COMPONENT.test(component)) {
      throw new GlobError(
        `repository pattern "${pattern}": only lowercase letters, digits, ".", "_", "-", "/", "*" and "**" are allowed`,
      );
    }
    if (component.includes("***")) throw new GlobError(`repository pattern "${pattern}": "***" is ambiguous`);
  }
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*" && pattern[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (ch === "*") {
      source += "[^/]*";
    } else {
      source += ch.replace(/[.-]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}
