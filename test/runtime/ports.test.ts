import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPorts, parsePublish } from "../../src/runtime/ports.js";

describe("parsePublish (-p)", () => {
  const ok: [string, ReturnType<typeof parsePublish>][] = [
    ["8080:80", { hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, proto: "tcp" }],
    ["127.0.0.1:8080:80", { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, proto: "tcp" }],
    ["127.0.0.1::80", { hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, proto: "tcp" }],
    ["80", { hostIp: "0.0.0.0", hostPort: 0, containerPort: 80, proto: "tcp" }],
    ["5353:53/udp", { hostIp: "0.0.0.0", hostPort: 5353, containerPort: 53, proto: "udp" }],
    ["[::1]:8080:80", { hostIp: "::1", hostPort: 8080, containerPort: 80, proto: "tcp" }],
  ];
  for (const [spec, want] of ok) it(spec, () => assert.deepEqual(parsePublish(spec), want));
  const bad = [
    "",
    "abc",
    "8080:",
    "0:80",
    "70000:80",
    "1:2:3:4",
    "8080:80/sctp",
    "300.1.1.1:80:80",
    "x.y:80:80",
    "8000-8010:80",
  ];
  for (const spec of bad)
    it(`refuses ${JSON.stringify(spec)}`, () => assert.throws(() => parsePublish(spec)));
  it("formats Docker's PORTS column", () => {
    assert.equal(
      formatPorts([parsePublish("127.0.0.1:8080:80"), { ...parsePublish("53/udp"), hostPort: 40000 }]),
      "127.0.0.1:8080->80/tcp, 0.0.0.0:40000->53/udp",
    );
  });
});
