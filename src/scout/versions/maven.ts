import { VersionParseError } from "../errors.js";

/**
 * Maven's ComparableVersion order (as Maven 3.8 has it, before MNG-7644): a version is split at `.`, `-` and every change between
 * digits and letters; a `-` (and a digit/letter change) starts a nested list, so a hyphen ranks
 * below a dot. Numbers compare as numbers and rank above strings and lists; strings are
 * qualifiers: `alpha` (`a` before a digit) < `beta` (`b`) < `milestone` (`m`) < `rc` = `cr` <
 * `snapshot` < `` = `ga` = `final` = `release` < `sp` < any other, those by their text. Trailing
 * zeros and release qualifiers do not count (1 == 1.0 == 1-ga).
 */
type Item = { kind: "int"; value: bigint } | { kind: "string"; value: string } | ListItem;
interface ListItem {
  kind: "list";
  items: Item[];
}

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };
const RELEASE = String(QUALIFIERS.indexOf(""));

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i < 0 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function stringItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1)
    v = v === "a" ? "alpha" : v === "b" ? "beta" : v === "m" ? "milestone" : v;
  return { kind: "string", value: ALIASES[v] ?? v };
}

function parseItem(isDigit: boolean, text: string): Item {
  return isDigit ? { kind: "int", value: BigInt(text) } : stringItem(text, false);
}

function isNull(item: Item): boolean {
  if (item.kind === "int") return item.value === 0n;
  if (item.kind === "string") return comparableQualifier(item.value) === RELEASE;
  return item.items.length === 0;
}

function normalize(list: ListItem): void {
  for (let i = list.items.length - 1; i >= 0; i--) {
    const last = list.items[i]!;
    if (isNull(last)) list.items.splice(i, 1);
    else if (last.kind !== "list") break;
  }
}

export function parseMaven(version: string): ListItem {
  const v = version.trim().toLowerCase();
  if (v === "" || /[^0-9a-z.\-_+]/.test(v)) throw new VersionParseError("Maven", version);
  let list: ListItem = { kind: "list", items: [] };
  const root = list;
  const stack: ListItem[] = [list];
  const push = () => {
    const next: ListItem = { kind: "list", items: [] };
    list.items.push(next);
    list = next;
    stack.push(next);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === ".") {
      list.items.push(i === start ? { kind: "int", value: 0n } : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
    } else if (c === "-") {
      list.items.push(i === start ? { kind: "int", value: 0n } : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
      push();
    } else if (c >= "0" && c <= "9") {
      if (!isDigit && i > start) {
        list.items.push(stringItem(v.slice(start, i), true));
        start = i;
        push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, v.slice(start, i)));
        start = i;
        push();
      }
      isDigit = false;
    }
  }
  if (v.length > start) list.items.push(parseItem(isDigit, v.slice(start)));
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

function cmp<T extends bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Item.compareTo, with `undefined` for Maven's null (a missing item). */
function compareItem(a: Item, b: Item | undefined): number {
  switch (a.kind) {
    case "int":
      if (!b) return a.value === 0n ? 0 : 1;
      return b.kind === "int" ? cmp(a.value, b.value) : 1;
    case "string":
      if (!b) return cmp(comparableQualifier(a.value), RELEASE);
      if (b.kind === "int") return -1;
      if (b.kind === "list") return -1;
      return cmp(comparableQualifier(a.value), comparableQualifier(b.value));
    case "list": {
      if (!b) {
        // Every item against nothing, not only the first (MNG-6964: 1-0.alpha < 1).
        for (const item of a.items) {
          const c = compareItem(item, undefined);
          if (c) return c;
        }
        return 0;
      }
      if (b.kind === "int") return -1;
      if (b.kind === "string") return 1;
      for (let i = 0; i < Math.max(a.items.length, b.items.length); i++) {
        const l = a.items[i];
        const r = b.items[i];
        const c = l ? compareItem(l, r) : r ? -compareItem(r, undefined) : 0;
        if (c) return c;
      }
      return 0;
    }
  }
}

export function compareMaven(a: string, b: string): number {
  return Math.sign(compareItem(parseMaven(a), parseMaven(b)));
}
