// Query matches restricted to the lines where a text anchor occurs. A query pass over a whole tree
// costs about a quarter of parsing the file; a rule whose candidates always contain a recognisable
// token (`append(`, `.Load(`) runs its query only over those lines. The tree still decides.
import type { QueryMatch } from 'web-tree-sitter';
import { query } from './parser';
import type { SourceFile } from './source-file';
import type { Span } from './text';

/**
 * The matches of `re` (global or not) in `file.text` that start in one of `spans`, in order. A span
 * is searched from the start of its first line to the end of the next non-blank line after it, so
 * the matches are those a search of the whole text finds for any anchor that cannot run further
 * than that from a declaration (the anchors of rules with scope 'declaration').
 */
export function* matchesIn(file: SourceFile, re: RegExp, spans: readonly Span[]): Generator<RegExpExecArray> {
  const global = new RegExp(re.source, re.global ? re.flags : re.flags + 'g');
  const text = file.text;
  for (const span of spans) {
    const whole = span.start === 0 && span.end >= text.length;
    const from = whole ? 0 : file.lines.lineStart(file.positionAt(span.start).line);
    const to = whole ? text.length : endOfNextNonBlankLine(text, span.end);
    const slice = whole ? text : text.slice(from, to);
    global.lastIndex = 0;
    for (let m = global.exec(slice); m && m.index + from <= span.end; m = global.exec(slice)) {
      if (m[0] === '') global.lastIndex++;
      m.index += from;
      if (m.index >= span.start) yield m;
    }
  }
}

/** The offset after the line break that ends the first non-blank line from the line holding `offset`'s end. */
function endOfNextNonBlankLine(text: string, offset: number): number {
  let eol = text.indexOf('\n', offset);
  if (eol === -1) return text.length;
  for (;;) {
    const next = text.indexOf('\n', eol + 1);
    const line = text.slice(eol + 1, next === -1 ? text.length : next);
    if (next === -1) return text.length;
    eol = next;
    if (line.trim() !== '') return eol + 1;
  }
}

/**
 * Matches of `querySource` that intersect a line on which `anchor` matches `file.text` (each match
 * once). A statement that starts on an earlier line but reaches an anchored line is included.
 * With `spans`, only anchors in them count.
 */
export function matchesOnAnchoredLines(file: SourceFile, querySource: string, anchor: RegExp, spans?: readonly Span[]): QueryMatch[] {
  // tree-sitter rows count '\n' only (a lone '\r' is not a row break for it): count them here.
  const text = file.text;
  const rows: number[] = [];
  for (const span of spans ?? [{ start: 0, end: text.length }]) {
    let row = span.start === 0 ? 0 : -1, at = 0; // elsewhere, the row of the first anchor is looked up
    for (const m of matchesIn(file, anchor, [span])) {
      if (row < 0) row = file.pointAt(m.index).row;
      else for (let i = text.indexOf('\n', at); i !== -1 && i < m.index; i = text.indexOf('\n', i + 1)) row++;
      at = m.index;
      if (rows[rows.length - 1] !== row) rows.push(row);
    }
  }
  if (spans) rows.sort((a, b) => a - b);
  if (!rows.length) return [];
  const q = query(querySource);
  const seen = new Set<string>();
  const out: QueryMatch[] = [];
  for (let i = 0; i < rows.length;) {
    // Consecutive anchored lines form one range: one query call.
    let j = i;
    while (j + 1 < rows.length && rows[j + 1] <= rows[j] + 1) j++;
    for (const m of q.matches(file.root, { startPosition: { row: rows[i], column: 0 }, endPosition: { row: rows[j] + 1, column: 0 } })) {
      const key = `${m.patternIndex}:${m.captures.map((c) => c.node.id).join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(m);
    }
    i = j + 1;
  }
  return out;
}
