/**
 * Display widths of text in terminal columns, as the docker CLI measures them. Two measures
 * exist there and they differ: the table writer (docker's fork of text/tabwriter) uses
 * go-runewidth's StringWidth (grapheme clusters, zero-width marks, East Asian wide = 2), while
 * formatter.Ellipsis uses golang.org/x/text/width (wide/fullwidth = 2, everything else 1).
 */

// East Asian Width W and F code points (Unicode EastAsianWidth.txt), coalesced into blocks.
// Emoji presentation characters, also W since Unicode 9, are matched by the regex below.
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2329, 0x232a],
  [0x2e80, 0x2e99],
  [0x2e9b, 0x2ef3],
  [0x2f00, 0x2fd5],
  [0x2ff0, 0x303e],
  [0x3041, 0x3096],
  [0x3099, 0x30ff],
  [0x3105, 0x312f],
  [0x3131, 0x318e],
  [0x3190, 0x31e5],
  [0x31ef, 0x321e],
  [0x3220, 0x3247],
  [0x3250, 0xa48c],
  [0xa490, 0xa4c6],
  [0xa960, 0xa97c],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe52],
  [0xfe54, 0xfe66],
  [0xfe68, 0xfe6b],
  [0xff01, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x16ff0, 0x16ff1],
  [0x17000, 0x187f7],
  [0x18800, 0x18cd5],
  [0x18d00, 0x18d08],
  [0x1aff0, 0x1affe],
  [0x1b000, 0x1b122],
  [0x1b132, 0x1b132],
  [0x1b150, 0x1b152],
  [0x1b155, 0x1b155],
  [0x1b164, 0x1b167],
  [0x1b170, 0x1b2fb],
  [0x1f200, 0x1f202],
  [0x1f210, 0x1f23b],
  [0x1f240, 0x1f248],
  [0x1f250, 0x1f251],
  [0x1f260, 0x1f265],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;
// Combining marks, format controls (zero-width space and joiner, bidi marks, BOM) and the
// soft hyphen take no column in go-runewidth.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u00ad\u1160-\u11ff]$/u;

function inWideRange(cp: number): boolean {
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = WIDE_RANGES[mid]!;
    if (cp < start) hi = mid - 1;
    else if (cp > end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** True for East Asian Wide and Fullwidth characters (golang.org/x/text/width's two wide kinds). */
export function isWide(char: string): boolean {
  const cp = char.codePointAt(0) ?? 0;
  if (cp < 0x1100) return false;
  return inWideRange(cp) || EMOJI_PRESENTATION.test(char);
}

/** go-runewidth's RuneWidth with its default (non East Asian) condition. */
export function runeWidth(char: string): number {
  const cp = char.codePointAt(0) ?? 0;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 0;
  if (cp < 0x300) return cp === 0xad ? 0 : 1;
  if (ZERO_WIDTH.test(char)) return 0;
  return isWide(char) ? 2 : 1;
}

// Created on first use: building a Segmenter loads ICU data, ~15 ms that `berth images` would
// pay on every run even though table cells are almost always ASCII.
let graphemes: Intl.Segmenter | undefined;

/**
 * go-runewidth's StringWidth: each grapheme cluster counts as the width of its first rune that
 * has a width, so "e" plus a combining accent is 1 and an emoji with a skin tone modifier is 2.
 */
export function stringWidth(text: string): number {
  // ASCII printable text is by far the common case: one column per character.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  for (const { segment } of graphemes.segment(text)) {
    for (const char of segment) {
      const w = runeWidth(char);
      if (w > 0) {
        width += w;
        break;
      }
    }
  }
  return width;
}
