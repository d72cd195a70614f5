import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { Entry } from "../layer/fixtures.js";
import { type BuiltImage, file, type ImageSpec, makeZip, opaque, whiteout, writeLayout } from "./images.js";

const require = createRequire(import.meta.url);

/** A static Go executable built by the test, with a dependency replaced by a local directory. */
export function buildGoBinary(work: string): Buffer {
  const src = join(work, "gosrc");
  mkdirSync(join(src, "greet"), { recursive: true });
  writeFileSync(
    join(src, "go.mod"),
    "module example.com/hello\n\ngo 1.19\n\nrequire example.com/greet v1.2.3\n\nreplace example.com/greet => ./greet\n",
  );
  writeFileSync(
    join(src, "main.go"),
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n',
  );
  writeFileSync(join(src, "greet/go.mod"), "module example.com/greet\n\ngo 1.19\n");
  writeFileSync(join(src, "greet/greet.go"), 'package greet\n\nfunc Hello() string { return "hi" }\n');
  execFileSync("go", ["build", "-o", join(work, "hello"), "."], {
    cwd: src,
    env: {
      ...process.env,
      CGO_ENABLED: "0",
      GOFLAGS: "-mod=mod",
      GOPROXY: "off",
      GOTOOLCHAIN: "local",
      GOCACHE: join(work, "gocache"),
      GOPATH: join(work, "gopath"),
    },
  });
  return readFileSync(join(work, "hello"));
}

/** The Go toolchain's version, as a Go binary records it ("1.19.8"). */
export function goVersion(): string {
  return /go(\d+\.\d+(?:\.\d+)?)/.exec(execFileSync("go", ["version"]).toString())![1]!;
}

/** An rpm header blob (big-endian index + data), as rpm writes into rpmdb.sqlite's Packages table. */
export function rpmHeader(tags: [number, "string" | "int32", string | number][]): Buffer {
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let offset = 0;
  for (const [tag, type, value] of tags) {
    let bytes: Buffer;
    if (type === "int32") {
      const pad = (4 - (offset % 4)) % 4;
      if (pad) {
        data.push(Buffer.alloc(pad));
        offset += pad;
      }
      bytes = Buffer.alloc(4);
      bytes.writeInt32BE(value as number);
    } else bytes = Buffer.from(`${value}\0`);
    const e = Buffer.alloc(16);
    e.writeInt32BE(tag, 0);
    e.writeUInt32BE(type === "int32" ? 4 : 6, 4);
    e.writeInt32BE(offset, 8);
    e.writeUInt32BE(1, 12);
    index.push(e);
    data.push(bytes);
    offset += bytes.length;
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(index.length, 0);
  head.writeUInt32BE(offset, 4);
  return Buffer.concat([head, ...index, ...data]);
}

export function makeRpmDb(path: string): Buffer {
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  const db = new Database(path);
  db.exec("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO Packages (blob) VALUES (?)");
  insert.run(
    rpmHeader([
      [1000, "string", "openssl-libs"],
      [1001, "string", "3.0.7"],
      [1002, "string", "16.el9"],
      [1003, "int32", 1],
      [1014, "string", "ASL 2.0"],
      [1022, "string", "x86_64"],
      [1044, "string", "openssl-3.0.7-16.el9.src.rpm"],
    ]),
  );
  insert.run(
    rpmHeader([
      [1000, "string", "gpg-pubkey"],
      [1001, "string", "fd431d51"],
      [1002, "string", "4ae0493b"],
    ]),
  );
  db.close();
  return readFileSync(path);
}

const APK_INSTALLED = `C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
L:MIT
o:musl

P:libcrypto3
V:3.1.1-r0
A:x86_64
L:Apache-2.0
o:openssl

P:busybox
V:1.36.1-r2
A:x86_64
L:GPL-2.0-only
o:busybox
`;

const ALPINE_OS_RELEASE =
  'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n';

const metadata = (name: string, version: string, license: string) =>
  `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nLicense: ${license}\n\nThe description of ${name}.\n`;

const pkgJson = (name: string, version: string, license: string) =>
  JSON.stringify({ name, version, license });

/**
 * "app": an Alpine-style apk database hand-made in the first layer, Python and Node packages in
 * the second, a Go binary in the third, jars in the fourth (one good, a war with a nested jar, one
 * corrupt), and a last layer that deletes a Python package (a whiteout) and hides a Node scope (an
 * opaque directory).
 */
export function appImage(work: string, goBinary: Buffer): ImageSpec {
  const jar = makeZip(
    {
      "META-INF/MANIFEST.MF":
        "Manifest-Version: 1.0\r\nImplementation-Title: demo\r\nImplementation-Version: 1.0.0\r\n\r\n",
      "META-INF/maven/org.example/demo/pom.properties":
        "groupId=org.example\nartifactId=demo\nversion=1.0.0\n",
      "org/example/Demo.class": Buffer.from([0xca, 0xfe, 0xba, 0xbe]),
    },
    work,
    "demo-1.0.0.jar",
  );
  const nested = makeZip(
    {
      "META-INF/maven/org.apache.commons/commons-lang3/pom.properties":
        "groupId=org.apache.commons\nartifactId=commons-lang3\nversion=3.12.0\n",
    },
    work,
    "commons-lang3-3.12.0.jar",
  );
  const war = makeZip(
    { "WEB-INF/web.xml": "<web-app/>", "WEB-INF/lib/commons-lang3-3.12.0.jar": nested },
    work,
    "shop.war",
  );
  const corrupt = Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(2000, 0x41)]);
  const site = "usr/lib/python3.11/site-packages";
  const entries = (list: Entry[]) => list;
  return {
    tag: "app",
    layers: [
      {
        createdBy: "ADD alpine-minirootfs.tar.gz / # buildkit",
        entries: entries([
          file("etc/os-release", ALPINE_OS_RELEASE),
          file("lib/apk/db/installed", APK_INSTALLED),
        ]),
      },
      {
        createdBy: "RUN pip install requests urllib3 && npm ci # buildkit",
        entries: entries([
          file(`${site}/requests-2.25.0.dist-info/METADATA`, metadata("requests", "2.25.0", "Apache 2.0")),
          file(`${site}/urllib3-1.26.0.dist-info/METADATA`, metadata("urllib3", "1.26.0", "MIT")),
          file(`${site}/Flask_Login-0.6.2.egg-info/PKG-INFO`, metadata("Flask-Login", "0.6.2", "MIT")),
          file("srv/app/package.json", pkgJson("shop", "1.0.0", "UNLICENSED")),
          file(
            "srv/app/package-lock.json",
            JSON.stringify({
              name: "shop",
              lockfileVersion: 3,
              packages: {
                "": { name: "shop", version: "1.0.0" },
                "node_modules/express": { version: "4.17.1", license: "MIT" },
                "node_modules/left-pad": { version: "1.3.0", license: "WTFPL" },
              },
            }),
          ),
          file("srv/app/node_modules/express/package.json", pkgJson("express", "4.17.1", "MIT")),
          file(
            "srv/app/node_modules/express/node_modules/qs/package.json",
            pkgJson("qs", "6.7.0", "BSD-3-Clause"),
          ),
          file("srv/app/node_modules/@types/node/package.json", pkgJson("@types/node", "20.1.0", "MIT")),
          file("srv/app/node_modules/express/lib/package.json", JSON.stringify({ private: true })),
        ]),
      },
      {
        createdBy: "COPY hello /usr/local/bin/hello # buildkit",
        entries: [file("usr/local/bin/hello", goBinary, 0o755)],
      },
      {
        createdBy: "COPY *.jar *.war /opt/ # buildkit",
        entries: [
          file("opt/demo-1.0.0.jar", jar),
          file("opt/shop.war", war),
          file("opt/broken.jar", corrupt),
        ],
      },
      {
        createdBy: "RUN pip uninstall -y requests && rm -rf node_modules/@types # buildkit",
        entries: [whiteout(`${site}/requests-2.25.0.dist-info`), opaque("srv/app/node_modules/@types")],
      },
    ],
  };
}

export const DPKG_STATUS = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1+b1

Package: oldconf
Status: deinstall ok config-files
Architecture: all
Version: 1.0

`;

/** "deb": a Debian 12 dpkg database (and a distroless status.d file), then an rpm database of each kind. */
export function debImage(work: string): ImageSpec {
  return {
    tag: "deb",
    layers: [
      {
        createdBy: "ADD rootfs.tar.xz / # buildkit",
        entries: [
          file(
            "etc/os-release",
            'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
          ),
          file("var/lib/dpkg/status", DPKG_STATUS),
          file(
            "var/lib/dpkg/status.d/tzdata",
            "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
          ),
          file(
            "usr/share/doc/openssl/copyright",
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Apache-2.0\n",
          ),
        ],
      },
      {
        createdBy: "COPY rpm /var/lib/rpm # buildkit",
        entries: [
          file("usr/lib/sysimage/rpm/rpmdb.sqlite", makeRpmDb(join(work, "rpmdb.sqlite"))),
          file("var/lib/rpm/Packages", Buffer.alloc(4096, 0x61)),
        ],
      },
    ],
  };
}

/** app, deb, and base: app's first layer alone (app's base image, for quickview). */
export async function writeFixtures(dir: string, work: string): Promise<BuiltImage[]> {
  const app = appImage(work, buildGoBinary(work));
  return writeLayout(dir, [app, debImage(work), { tag: "base", layers: [app.layers[0]!] }]);
}
