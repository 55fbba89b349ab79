// Offsets are UTF-16 code units everywhere: the same unit as JS strings, LSP and web-tree-sitter.

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
/** A stretch of text by offsets: [start, end). */
export interface Span { start: number; end: number }

/** Line starts of a text; LSP line breaks are \n, \r\n and a lone \r. */
export class LineIndex {
  private readonly starts: Int32Array;
  constructor(private readonly text: string, starts?: Int32Array) {
    if (starts) {
      this.starts = starts;
      return;
    }
    const found = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) found.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        found.push(i + 1);
      }
    }
    this.starts = Int32Array.from(found);
  }
  get lineCount(): number { return this.starts.length; }

  positionAt(offset: number): Position {
    offset = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }

  offsetAt(pos: Position): number {
    if (pos.line >= this.starts.length) return this.text.length;
    if (pos.line < 0) return 0;
    const start = this.starts[pos.line];
    const next = pos.line + 1 < this.starts.length ? this.starts[pos.line + 1] : this.text.length;
    let lineEnd = next;
    while (lineEnd > start && (this.text.charCodeAt(lineEnd - 1) === 10 || this.text.charCodeAt(lineEnd - 1) === 13)) lineEnd--;
    return Math.min(start + Math.max(0, pos.character), lineEnd);
  }

  lineStart(line: number): number { return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))]; }

  /**
   * The index of `newText` = this text with [start, end) replaced by `inserted`: line starts are
   * shifted rather than rescanned, so an edit in a 40,000-line file costs little.
   */
  withChange(newText: string, start: number, end: number, inserted: string): LineIndex {
    // A line start p depends on the characters at p-1 and p only. Starts before the change keep
    // their place, starts after it shift; the few in between are rescanned.
    const delta = inserted.length - (end - start);
    const old = this.starts;
    const before = this.firstAtOrAfter(start); // starts p <= start - 1
    const after = this.firstAtOrAfter(end + 2);
    const rescanned: number[] = before === 0 ? [0] : [];
    const scanTo = Math.min(newText.length, start + inserted.length + 1);
    for (let i = Math.max(0, start - 1); i < scanTo; i++) {
      const c = newText.charCodeAt(i);
      if (c === 10 || (c === 13 && newText.charCodeAt(i + 1) !== 10)) rescanned.push(i + 1);
    }
    const starts = new Int32Array(before + rescanned.length + old.length - after);
    starts.set(old.subarray(0, before));
    starts.set(rescanned, before);
    for (let i = after, k = before + rescanned.length; i < old.length; i++, k++) starts[k] = old[i] + delta;
    return new LineIndex(newText, starts);
  }

  /** The index of the first line start >= offset (binary search). */
  private firstAtOrAfter(offset: number): number {
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] < offset) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
}

/**
 * How often some literals occur in a text, kept current through edits by looking only around
 * each change: rules ask "does the file contain X?" on every keystroke, and on a large file a
 * full search costs more than the rest of their work.
 */
export class LiteralCounts {
  private readonly counts = new Map<string, number>();

  count(text: string, literal: string): number {
    let n = this.counts.get(literal);
    if (n === undefined) {
      n = occurrences(text, literal, 0, text.length);
      this.counts.set(literal, n);
    }
    return n;
  }

  /** `next` is `text` with [start, end) replaced by `inserted`. */
  update(text: string, next: string, start: number, end: number, inserted: string): void {
    for (const [literal, n] of this.counts) {
      // Occurrences that overlap the replaced range go; those overlapping the inserted text come.
      const from = Math.max(0, start - literal.length + 1);
      this.counts.set(literal, n - occurrences(text, literal, from, end) + occurrences(next, literal, from, start + inserted.length));
    }
  }

  clear(): void { this.counts.clear(); }
}

/** Occurrences of `literal` in `text` that start in [from, before) (overlapping ones included). */
function occurrences(text: string, literal: string, from: number, before: number): number {
  // Search a slice: indexOf on the whole text would run to its end when the literal is absent.
  const window = from === 0 && before >= text.length ? text : text.slice(from, before + literal.length - 1);
  let n = 0;
  for (let i = window.indexOf(literal); i !== -1; i = window.indexOf(literal, i + 1)) n++;
  return n;
}

export interface TextEdit { start: number; end: number; newText: string }

export function editsOverlap(edits: readonly TextEdit[]): boolean {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], cur = sorted[i];
    if (cur.start < prev.end) return true;
    // Two insertions at one point have no defined order.
    if (cur.start === prev.start && cur.start === cur.end && prev.start === prev.end) return true;
  }
  return false;
}

/** Applies non-overlapping edits; throws on overlap rather than corrupting the text. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  if (editsOverlap(edits)) throw new Error('overlapping edits');
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of sorted) {
    if (e.start < 0 || e.end > out.length || e.start > e.end) throw new Error(`edit out of range: ${e.start}-${e.end}`);
    out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  }
  return out;
}

/** tree-sitter rows count '\n' only; columns are UTF-16 units since the last '\n'. */
export function treePointAt(text: string, offset: number): { row: number; column: number } {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** The point reached after inserting `inserted` at `from`. */
export function advancePoint(from: { row: number; column: number }, inserted: string): { row: number; column: number } {
  const last = inserted.lastIndexOf('\n');
  if (last === -1) return { row: from.row, column: from.column + inserted.length };
  let rows = 0;
  for (let i = inserted.indexOf('\n'); i !== -1; i = inserted.indexOf('\n', i + 1)) rows++;
  return { row: from.row + rows, column: inserted.length - last - 1 };
}

/**
 * Applies edits computed against `original` to `text`, refusing (throwing) when the text around
 * any edit is no longer what the fix saw — e.g. the same fix applied twice — instead of
 * corrupting the file.
 */
export function applyEditsChecked(text: string, original: string, edits: readonly TextEdit[], context = 16): string {
  for (const e of edits) {
    const from = Math.max(0, e.start - context);
    if (text.slice(from, e.end + context) !== original.slice(from, e.end + context)) {
      throw new Error(`stale edit at ${e.start}: the text changed since the fix was computed`);
    }
  }
  return applyEdits(text, edits);
}
