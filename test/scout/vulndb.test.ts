import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FeedCounts, parseAlpineSecdb, parseDebianTracker, parseOsv } from "../../src/scout/vulndb/feeds.js";
import { checkAffected, includedInRange, isAffected, type Range } from "../../src/scout/vulndb/osv-range.js";
import { cvss3BaseScore, ratingOf } from "../../src/scout/vulndb/severity.js";

const semver = (...events: Range["events"]): Range => ({ type: "SEMVER", events });

describe("OSV range evaluation (the schema's Evaluation section)", () => {
  const cases: [string, Range, string, boolean][] = [
    // "every possible version is affected"
    ["introduced 0", semver({ introduced: "0" }), "99.0.0", true],
    // "everything before 1.0.2"
    ["before the fix", semver({ introduced: "0" }, { fixed: "1.0.2" }), "1.0.1", true],
    ["at the fix", semver({ introduced: "0" }, { fixed: "1.0.2" }), "1.0.2", false],
    // "[1.0.0, 1.0.2) or [3.0.0, 3.2.5)"
    [
      "first range",
      semver({ introduced: "1.0.0" }, { fixed: "1.0.2" }, { introduced: "3.0.0" }, { fixed: "3.2.5" }),
      "1.0.0",
      true,
    ],
    [
      "between ranges",
      semver({ introduced: "1.0.0" }, { fixed: "1.0.2" }, { introduced: "3.0.0" }, { fixed: "3.2.5" }),
      "2.0.0",
      false,
    ],
    [
      "second range",
      semver({ introduced: "1.0.0" }, { fixed: "1.0.2" }, { introduced: "3.0.0" }, { fixed: "3.2.5" }),
      "3.2.4",
      true,
    ],
    ["before introduced", semver({ introduced: "1.0.0" }, { fixed: "1.0.2" }), "0.9.0", false],
    [
      "events unsorted",
      semver({ fixed: "3.2.5" }, { introduced: "3.0.0" }, { fixed: "1.0.2" }, { introduced: "1.0.0" }),
      "3.1.0",
      true,
    ],
    // last_affected is inclusive
    ["at last_affected", semver({ introduced: "0" }, { last_affected: "2.1.214" }), "2.1.214", true],
    ["above last_affected", semver({ introduced: "0" }, { last_affected: "2.1.214" }), "2.1.215", false],
    // limit: only versions below a limit are in the range; "*" is infinity
    ["below the limit", semver({ introduced: "1.0.0" }, { limit: "2.0.0" }), "1.5.0", true],
    ["at the limit", semver({ introduced: "1.0.0" }, { limit: "2.0.0" }), "2.0.0", false],
    ["limit *", semver({ introduced: "1.0.0" }, { limit: "*" }), "5.0.0", true],
    ["pre-release before the fix", semver({ introduced: "0" }, { fixed: "2.0.0" }), "2.0.0-rc.1", true],
  ];
  for (const [name, range, version, want] of cases) {
    it(`${name}: ${version} ${want ? "is" : "is not"} affected`, () => {
      assert.equal(includedInRange("npm", version, range), want);
    });
  }

  it("an ECOSYSTEM range uses the ecosystem's order (Debian's ~), a GIT range is not evaluated", () => {
    const eco: Range = { type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "3.0.11-1" }] };
    assert.equal(includedInRange("Debian", "3.0.11-1~deb12u2", eco), true);
    assert.equal(includedInRange("Debian", "3.0.11-1", eco), false);
    assert.equal(
      includedInRange("PyPI", "1.0rc1", {
        type: "ECOSYSTEM",
        events: [{ introduced: "0" }, { fixed: "1.0" }],
      }),
      true,
    );
    assert.equal(includedInRange("npm", "1.0.0", { type: "GIT", events: [{ introduced: "0" }] }), false);
  });

  it("the versions list matches exactly", () => {
    assert.equal(isAffected("npm", "1.3.0", { ranges: [], versions: ["1.2.0", "1.3.0"] }), true);
    assert.equal(isAffected("npm", "1.3.1", { ranges: [], versions: ["1.2.0", "1.3.0"] }), false);
  });

  it("records whose versions do not parse, or events that break the schema's rules, are refused", () => {
    assert.equal(
      checkAffected("npm", { ranges: [semver({ introduced: "0" }, { fixed: "1.0" })], versions: [] }),
      false,
    );
    assert.equal(
      checkAffected("npm", { ranges: [semver({ fixed: "1.0.0" })], versions: [] }),
      false,
      "no introduced",
    );
    assert.equal(
      checkAffected("npm", {
        ranges: [semver({ introduced: "0", fixed: "1.0.0" } as Range["events"][0])],
        versions: [],
      }),
      false,
      "two keys in one event",
    );
    assert.equal(
      checkAffected("Maven", {
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.0 b" }] }],
        versions: [],
      }),
      false,
    );
  });
});

describe("CVSS v3 base scores (FIRST's specification and its examples)", () => {
  const table: [string, number][] = [
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
    ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", 6.8],
    ["CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10],
    ["CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0],
    ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4],
    ["CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8],
  ];
  for (const [vector, score] of table)
    it(`${vector} = ${score}`, () => assert.equal(cvss3BaseScore(vector), score));
  it("incomplete or foreign vectors give no score; ratings follow the table", () => {
    assert.equal(cvss3BaseScore("CVSS:3.1/AV:N/AC:L"), undefined);
    assert.equal(
      cvss3BaseScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
      undefined,
    );
    assert.equal(cvss3BaseScore("AV:N/AC:L/Au:N/C:P/I:P/A:P"), undefined);
    assert.deepEqual([9, 8.9, 7, 6.9, 4, 3.9, 0.1].map(ratingOf), [
      "critical",
      "high",
      "high",
      "medium",
      "medium",
      "low",
      "low",
    ]);
  });
});

describe("feed parsing", () => {
  it("OSV: withdrawn and malformed records are skipped and counted; severity from the vector or the database's word", () => {
    const counts = new FeedCounts();
    const out = [
      ...parseOsv({ id: "A", withdrawn: "2024-01-01T00:00:00Z", affected: [] }, counts),
      ...parseOsv({ id: "B" }, counts),
      ...parseOsv(
        {
          id: "C",
          modified: "2024-02-02T00:00:00Z",
          database_specific: { severity: "MODERATE" },
          affected: [
            {
              package: { ecosystem: "PyPI", name: "Django_Rest" },
              ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }],
            },
            { package: { ecosystem: "Hex", name: "x" }, versions: ["1"] },
          ],
        },
        counts,
      ),
    ];
    assert.equal(out.length, 1);
    assert.equal(out[0]!.package, "django-rest");
    assert.equal(out[0]!.severity, "medium");
    assert.equal(counts.newest, "2024-02-02T00:00:00Z");
    assert.deepEqual(Object.fromEntries(counts.skipped), {
      withdrawn: 1,
      malformed: 1,
      "unknown ecosystem": 1,
    });
  });

  it("Debian tracker: releases by code name, fixed_version 0 and unimportant left out, open issues with no fix", () => {
    const counts = new FeedCounts();
    const out = [
      ...parseDebianTracker(
        {
          curl: {
            "CVE-1": {
              releases: {
                bookworm: { status: "open", urgency: "high*" },
                trixie: { status: "resolved", fixed_version: "0" },
              },
            },
            "CVE-2": {
              releases: {
                sid: { status: "resolved", fixed_version: "8.5.0-1", urgency: "low" },
                hamm: { status: "open" },
              },
            },
            "CVE-3": { releases: { bookworm: { status: "open", urgency: "unimportant" } } },
          },
        },
        counts,
      ),
    ];
    assert.deepEqual(
      out.map((a) => `${a.id} ${a.ecosystem} ${a.severity} ${a.fixed.join(",")}`),
      ["CVE-1 Debian:12 high ", "CVE-2 Debian:sid low 8.5.0-1"],
    );
    assert.deepEqual(Object.fromEntries(counts.skipped), {
      "not affected (fixed_version 0)": 1,
      "unknown ecosystem": 1,
      unimportant: 1,
    });
  });

  it("Alpine secdb: the release's ecosystem, one advisory per ID, version 0 meaning never affected", () => {
    const counts = new FeedCounts();
    const out = [
      ...parseAlpineSecdb(
        {
          distroversion: "v3.19",
          packages: [
            { pkg: { name: "zlib", secfixes: { "1.2.12-r2": ["CVE-2022-37434"], "0": ["CVE-2018-25032"] } } },
          ],
        },
        counts,
      ),
    ];
    assert.deepEqual(
      out.map((a) => `${a.ecosystem} ${a.package} ${a.id} ${a.fixed[0]}`),
      ["Alpine:v3.19 zlib CVE-2022-37434 1.2.12-r2"],
    );
    assert.equal(counts.skipped.get("not affected (fixed_version 0)"), 1);
  });
});
