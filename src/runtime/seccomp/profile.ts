import { RuntimeUsageError } from "../errors.js";
import type { SpecSeccomp } from "../oci-spec.js";
import defaultProfileJson from "./default.json" with { type: "json" };
import syscallNames from "./syscall-names.json" with { type: "json" };

/*
 * Seccomp profiles in Docker's format (moby/profiles/seccomp): the OCI filter plus, per rule,
 * `includes`/`excludes` conditions on the process's capabilities, the architecture and the
 * kernel version, and an `archMap` from the native architecture to the ones it also runs
 * (x86_64: i386 and x32). Berth's default profile (default.json) is one; a user's
 * `--security-opt seccomp=FILE` is another. Turning one into a spec's `linux.seccomp` is pure.
 */

export interface SeccompFilter {
  caps?: string[];
  /** Docker's names: amd64, x86, x32, arm, arm64, s390x, … */
  arches?: string[];
  minKernel?: string;
}

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface SeccompRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter | null;
  excludes?: SeccompFilter | null;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: { architecture: string; subArchitectures: string[] | null }[] | null;
  flags?: string[] | null;
  syscalls?: SeccompRule[] | null;
}

/** Berth's default profile: Docker's effect, kept as data (default.json). */
export const DEFAULT_SECCOMP_PROFILE = defaultProfileJson as SeccompProfile;

const KNOWN_SYSCALLS = new Set<string>(syscallNames);

const ACTIONS = new Set([
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
]);

const OPS = new Set([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);

/** Node's process.arch as Docker's profiles name architectures. */
export function nativeArch(nodeArch: string = process.arch): string {
  return (
    { x64: "amd64", ia32: "x86", arm64: "arm64", arm: "arm", s390x: "s390x", ppc64: "ppc64le" }[nodeArch] ??
    nodeArch
  );
}

/** Docker's architecture names as libseccomp's. */
const SCMP_ARCH: Record<string, string> = {
  amd64: "SCMP_ARCH_X86_64",
  x86: "SCMP_ARCH_X86",
  x32: "SCMP_ARCH_X32",
  arm64: "SCMP_ARCH_AARCH64",
  arm: "SCMP_ARCH_ARM",
  s390x: "SCMP_ARCH_S390X",
  s390: "SCMP_ARCH_S390",
  ppc64le: "SCMP_ARCH_PPC64LE",
  riscv64: "SCMP_ARCH_RISCV64",
  loong64: "SCMP_ARCH_LOONGARCH64",
};

/**
 * A profile's text, checked before anything is created: JSON of Docker's shape whose actions,
 * operators and syscall names are known (runc would silently skip an unknown name: a typo would
 * leave a syscall allowed or a rule unapplied).
 */
export function parseSeccompProfile(text: string): SeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RuntimeUsageError(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  const fail = (why: string): never => {
    throw new RuntimeUsageError(`Decoding seccomp profile failed: ${why}`);
  };
  if (!value || typeof value !== "object" || Array.isArray(value)) fail("the profile is not a JSON object");
  const p = value as SeccompProfile;
  if (typeof p.defaultAction !== "string" || !ACTIONS.has(p.defaultAction))
    fail(`unknown defaultAction ${JSON.stringify(p.defaultAction)}`);
  if (p.architectures?.length && p.archMap?.length)
    fail(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  if (p.syscalls !== undefined && p.syscalls !== null && !Array.isArray(p.syscalls))
    fail("'syscalls' is not a list");
  for (const [i, rule] of (p.syscalls ?? []).entries()) {
    if (!rule || typeof rule !== "object") fail(`syscalls[${i}] is not an object`);
    if (rule.name !== undefined && rule.names?.length)
      fail("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    const names = rule.name !== undefined ? [rule.name] : (rule.names ?? []);
    if (!Array.isArray(names) || names.length === 0) fail(`syscalls[${i}] names no syscall`);
    for (const n of names)
      if (typeof n !== "string" || !KNOWN_SYSCALLS.has(n))
        fail(`syscalls[${i}]: unknown syscall ${JSON.stringify(n)}`);
    if (typeof rule.action !== "string" || !ACTIONS.has(rule.action))
      fail(`syscalls[${i}]: unknown action ${JSON.stringify(rule.action)}`);
    for (const a of rule.args ?? [])
      if (typeof a?.index !== "number" || typeof a.value !== "number" || !OPS.has(a.op))
        fail(`syscalls[${i}]: bad argument condition ${JSON.stringify(a)}`);
  }
  return p;
}

export interface SeccompHost {
  /** The process's bounding capabilities (rules gated on a capability follow them). */
  capabilities: readonly string[];
  /** Docker's name of the native architecture (nativeArch()). */
  arch: string;
  /** The kernel's release (os.release()), for minKernel conditions. */
  kernel: string;
}

/** The OCI filter of a profile for one process and host: moby's setupSeccomp rules. Pure. */
export function seccompForSpec(p: SeccompProfile, host: SeccompHost): SpecSeccomp {
  const out: SpecSeccomp = {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
  };
  const native = SCMP_ARCH[host.arch];
  if (p.architectures?.length) out.architectures = [...p.architectures];
  else if (native) {
    const m = p.archMap?.find((a) => a.architecture === native);
    if (m) out.architectures = [m.architecture, ...(m.subArchitectures ?? [])];
  }
  if (p.flags?.length) out.flags = [...p.flags];
  const has = (c: string) => host.capabilities.includes(c);
  const kernelAtLeast = (v: string) => compareVersions(host.kernel, v) >= 0;
  const rules: NonNullable<SpecSeccomp["syscalls"]> = [];
  for (const r of p.syscalls ?? []) {
    const ex = r.excludes;
    if (ex) {
      if (ex.arches?.includes(host.arch)) continue;
      if (ex.caps?.some(has)) continue;
      if (ex.minKernel && kernelAtLeast(ex.minKernel)) continue;
    }
    const inc = r.includes;
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(host.arch)) continue;
      if (inc.caps?.length && !inc.caps.every(has)) continue;
      if (inc.minKernel && !kernelAtLeast(inc.minKernel)) continue;
    }
    rules.push({
      names: r.name !== undefined ? [r.name] : [...(r.names ?? [])],
      action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length ? { args: r.args.map((a) => ({ ...a })) } : {}),
    });
  }
  out.syscalls = rules;
  return out;
}

/** "6.18.44-fc" against "4.8": numeric parts compared in order. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (/^[\d.]+/.exec(v)?.[0] ?? "0").split(".").filter(Boolean).map(Number);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
