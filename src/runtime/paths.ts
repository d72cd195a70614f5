import { join } from "node:path";

/** Where a container's files live: ROOT/containers/ID/…, and its runtime's state. */
export class ContainerPaths {
  readonly dir: string;
  constructor(
    readonly root: string,
    readonly id: string,
  ) {
    this.dir = join(root, "containers", id);
  }
  get upper(): string {
    return join(this.dir, "upper");
  }
  get work(): string {
    return join(this.dir, "work");
  }
  get merged(): string {
    return join(this.dir, "merged");
  }
  /** Mount points and /etc files under the container's layer (Docker's -init layer). */
  get init(): string {
    return join(this.dir, "init");
  }
  /** The OCI bundle: config.json, plus conmon's pid files, ctl and winsz FIFOs. */
  get bundle(): string {
    return join(this.dir, "bundle");
  }
  /** The FIFO an attached starter holds open (see handoff.ts). */
  get handoff(): string {
    return join(this.dir, "handoff");
  }
  get log(): string {
    return join(this.dir, "ctr.log");
  }
  get exitDir(): string {
    return join(this.dir, "exits");
  }
  get exitFile(): string {
    return join(this.exitDir, this.id);
  }
  get hosts(): string {
    return join(this.dir, "hosts");
  }
  get hostname(): string {
    return join(this.dir, "hostname");
  }
  get resolvConf(): string {
    return join(this.dir, "resolv.conf");
  }
  /** Short paths: a unix socket's path is limited to 108 bytes, and ROOT may be long. */
  get slirpSocket(): string {
    return join(RUN_DIR, `slirp-${this.id.slice(0, 32)}.sock`);
  }
  get attachSocket(): string {
    return join(SOCKET_DIR, this.id, "attach");
  }
}

/** Berth's runtime files that must not outlive the machine (sockets), as Docker keeps /run/docker. */
export const RUN_DIR = "/run/berth";
export const SOCKET_DIR = "/run/berth/sock";

export function volumesDir(root: string): string {
  return join(root, "volumes");
}

export function runtimeStateDir(root: string): string {
  return join(root, "runc");
}
