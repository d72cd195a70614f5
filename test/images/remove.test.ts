import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSingleReference } from "../../src/images/remove.js";

/**
 * moby's isSingleReference (daemon/images/image_delete.go): whether an image's names are one
 * reference, so that removing the name would leave it dangling under a container.
 */
describe("isSingleReference", () => {
  const tag = (repository: string) => ({ repository });
  const digest = (repository: string) => ({ repository });
  const cases: [string, { repository: string }[], { repository: string }[], boolean][] = [
    ["no names at all", [], [], false],
    ["one tag", [tag("r/a")], [], true],
    ["one digest", [], [digest("r/a")], true],
    ["a tag and its repository's digest (a pull)", [tag("r/a")], [digest("r/a")], true],
    ["a tag and two digests of its repository", [tag("r/a")], [digest("r/a"), digest("r/a")], true],
    ["two tags of one repository", [tag("r/a"), tag("r/a")], [], false],
    ["a tag and another repository's digest", [tag("r/a")], [digest("r/b")], false],
    ["a tag and digests of two repositories", [tag("r/a")], [digest("r/a"), digest("r/b")], false],
    ["digests of two repositories", [], [digest("r/a"), digest("r/b")], false],
  ];
  for (const [name, tags, digests, want] of cases)
    test(name, () => assert.equal(isSingleReference(tags, digests), want));
});
