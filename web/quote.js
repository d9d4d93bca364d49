// Finding a quoted passage in a block's text, as the server will check it:
// offsets in Unicode code points, with a prefix and suffix so that a phrase
// that occurs twice is never ambiguous. Matching forgives what copy and paste
// changes: typographic quotes, non-breaking or doubled spaces, case.

const CONTEXT = 32;
const SINGLE = /[\u2018\u2019\u201A\u201B\u2032\u02BC]/;
const DOUBLE = /[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB]/;
const DASH = /[\u2010-\u2015\u2212]/;
const SPACE = /[\s\u00A0\u2007\u202F\u2009\u200A\u2002-\u2006\u3000]/;

/** The normalised characters of `cps` with, for each, its index in `cps`. */
export function normalize(cps) {
  const text = [];
  const map = [];
  for (let i = 0; i < cps.length; i += 1) {
    let c = cps[i];
    if (SPACE.test(c)) {
      if (text.length === 0 || text[text.length - 1] === ' ') continue;
      c = ' ';
    } else if (SINGLE.test(c)) c = "'";
    else if (DOUBLE.test(c)) c = '"';
    else if (DASH.test(c)) c = '-';
    else c = c.toLowerCase();
    text.push(c);
    map.push(i);
  }
  while (text.length && text[text.length - 1] === ' ') { text.pop(); map.pop(); }
  return { text, map };
}

function occurrences(hay, needle) {
  const found = [];
  outer: for (let i = 0; i + needle.length <= hay.length; i += 1) {
    for (let j = 0; j < needle.length; j += 1) if (hay[i + j] !== needle[j]) continue outer;
    found.push(i);
  }
  return found;
}

/**
 * Where `exact` is in `blockText`: `{ quote }` ready for the API, or
 * `{ error, count }` with error 'empty' | 'absent' | 'ambiguous'.
 * `hint` (a code-point offset, e.g. where the selection starts) picks among
 * several occurrences.
 */
export function locate(blockText, exact, hint = null) {
  const block = Array.from(blockText);
  const want = normalize(Array.from(exact.trim()));
  if (!want.text.length) return { error: 'empty' };
  const norm = normalize(block);
  const found = occurrences(norm.text, want.text);
  if (!found.length) return { error: 'absent' };
  let pick = found[0];
  if (found.length > 1) {
    if (hint === null) return { error: 'ambiguous', count: found.length };
    pick = found.reduce((best, i) =>
      (Math.abs(norm.map[i] - hint) < Math.abs(norm.map[best] - hint) ? i : best), found[0]);
  }
  const start = norm.map[pick];
  const end = norm.map[pick + want.text.length - 1] + 1;
  return { quote: quoteAt(block, start, end) };
}

/** The selector for code points [start, end) of a block. */
export function quoteAt(block, start, end) {
  return {
    exact: block.slice(start, end).join(''),
    prefix: block.slice(Math.max(0, start - CONTEXT), start).join('') || null,
    suffix: block.slice(end, end + CONTEXT).join('') || null,
    start,
    end,
  };
}

/** Code points from the start of `el` to the start of `range`. */
export function offsetIn(el, range) {
  const before = document.createRange();
  before.selectNodeContents(el);
  before.setEnd(range.startContainer, range.startOffset);
  return Array.from(before.toString()).length;
}
