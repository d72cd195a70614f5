import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import type { Readable } from "node:stream";
import { RuntimeError } from "./errors.js";
import { type Exec, execHelper } from "./exec-file.js";
import type { PortBinding } from "./ports.js";

/** Where `ip netns` keeps named network namespaces. */
export const NETNS_DIR = "/run/netns";

export function netnsName(id: string): string {
  return `berth-${id}`;
}

export function netnsPath(id: string): string {
  return `${NETNS_DIR}/${netnsName(id)}`;
}

/**
 * The default network: a network namespace of the container's own, made before the container
 * (so ports are forwarded before its process starts), with slirp4netns giving it `tap0`
 * (10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3) and user-mode NAT to the outside, and
 * forwarding published ports from the host to it. slirp4netns runs beside conmon, not in Node.
 */
export async function createNetns(id: string, exec: Exec = execHelper): Promise<string> {
  const r = await exec("ip", ["netns", "add", netnsName(id)]);
  if (r.code !== 0 && !/File exists/.test(r.stderr))
    throw new RuntimeError(`creating the network namespace: ${r.stderr.trim()}`);
  return netnsPath(id);
}

export async function deleteNetns(id: string, exec: Exec = execHelper): Promise<void> {
  const r = await exec("ip", ["netns", "delete", netnsName(id)]);
  if (r.code !== 0 && !/No such file/.test(r.stderr))
    throw new RuntimeError(`removing the network namespace: ${r.stderr.trim()}`);
}

export const SLIRP_ADDRESS = "10.0.2.100";
export const SLIRP_DNS = "10.0.2.3";

export interface Slirp {
  /** Known at once (undefined when it could not be started), so that a failure can still kill it. */
  pid: number | undefined;
  /** Resolves once tap0 is configured; rejects when slirp4netns fails or exits first. */
  ready: Promise<void>;
}

/** Starts slirp4netns on a namespace path; `ready` says when tap0 is configured. */
export function startSlirp(nsPath: string, apiSocket: string, slirp = "slirp4netns"): Slirp {
  const child = spawn(
    slirp,
    [
      "--configure",
      "--mtu=65520",
      "--disable-host-loopback",
      "--netns-type=path",
      "--api-socket",
      apiSocket,
      "--ready-fd",
      "3",
      nsPath,
      "tap0",
    ],
    { detached: true, stdio: ["ignore", "ignore", "pipe", "pipe"] },
  );
  const ready = new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const readyFd = child.stdio[3] as Readable;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      readyFd.destroy();
      child.stderr!.destroy();
      child.unref();
      if (err) reject(err);
      else resolve();
    };
    child.on("error", (err) => finish(new RuntimeError(`cannot run slirp4netns: ${err.message}`)));
    child.on("exit", (code) => finish(new RuntimeError(`slirp4netns exited ${code}: ${stderr.trim()}`)));
    readyFd.on("data", () => finish());
    readyFd.on("error", () => {});
  });
  return { pid: child.pid, ready };
}

/** Asks slirp4netns to forward a host port; a port already in use is Docker's "port is already allocated". */
export async function addPortForward(apiSocket: string, b: PortBinding): Promise<void> {
  const request = {
    execute: "add_hostfwd",
    arguments: { proto: b.proto, host_addr: b.hostIp, host_port: b.hostPort, guest_port: b.containerPort },
  };
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = createConnection(apiSocket);
    let data = "";
    sock.on("connect", () => sock.write(JSON.stringify(request)));
    sock.on("data", (d) => {
      data += d.toString();
    });
    sock.on("end", () => resolve(data));
    sock.on("error", reject);
  });
  const parsed = JSON.parse(answer) as { return?: unknown; error?: { desc?: string } };
  if (parsed.error) {
    throw new RuntimeError(
      `driver failed programming external connectivity: Bind for ${b.hostIp}:${b.hostPort} failed: port is already allocated (${parsed.error.desc ?? "refused"})`,
    );
  }
}

/** The address Docker's ports answer on; a host port 0 gets a free one (found by binding it briefly). */
export async function freeHostPort(hostIp: string): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, hostIp, resolve);
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function hostsFile(hostname: string, address?: string): string {
  return [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    ...(address ? [`${address}\t${hostname}`] : []),
    "",
  ].join("\n");
}

/**
 * The container's resolv.conf: the host's, except that loopback nameservers (unreachable from
 * a network namespace of its own) give way to slirp4netns's DNS, as Docker falls back to public ones.
 */
export function resolvConf(hostText: string, mode: "none" | "host" | "private"): string {
  if (mode === "host") return hostText;
  const lines = hostText.split("\n").filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (mode === "private" && !lines.some((l) => /^\s*nameserver\s/.test(l)))
    lines.unshift(`nameserver ${SLIRP_DNS}`);
  return `${lines.join("\n").trim()}\n`;
}
