// Query matches restricted to the lines where a text anchor occurs. A query pass over a whole tree
// costs about a quarter of parsing the file; a rule whose candidates always contain a recognisable
// token (`append(`, `.Load(`) runs its query only over those lines. The tree still decides.
import type { QueryMatch } from 'web-tree-sitter';
import { query } from './parser';
import type { SourceFile } from './source-file';

/**
 * Matches of `querySource` that intersect a line on which `anchor` matches `file.text` (each match
 * once). A statement that starts on an earlier line but reaches an anchored line is included.
 */
export function matchesOnAnchoredLines(file: SourceFile, querySource: string, anchor: RegExp): QueryMatch[] {
  const global = anchor.global ? anchor : new RegExp(anchor.source, anchor.flags + 'g');
  // tree-sitter rows count '\n' only (a lone '\r' is not a row break for it): count them here.
  const text = file.text;
  const rows: number[] = [];
  let row = 0, at = 0;
  for (const m of text.matchAll(global)) {
    for (let i = text.indexOf('\n', at); i !== -1 && i < m.index!; i = text.indexOf('\n', i + 1)) row++;
    at = m.index!;
    if (rows[rows.length - 1] !== row) rows.push(row);
  }
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
