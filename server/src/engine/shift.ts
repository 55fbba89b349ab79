// Moving findings along text edits made since they were computed: the one mechanism the
// incremental re-check (incremental.ts), the editor's carried findings (lsp/server.ts) and fix
// verification (verify-fix.ts, fix-rounds.ts) share.
import type { Finding } from './rule';
import type { TextEdit } from './text';

/** A change of one file's text: [start, end) replaced by `text` (offsets in UTF-16 units). */
export interface TextEditAt { start: number; end: number; text: string }

/** Where the text at `offset` is after `edit`: later text moves, deleted text collapses to its start. */
export function mapOffset(offset: number, edit: TextEditAt): number {
  if (offset <= edit.start) return offset;
  if (offset >= edit.end) return offset + edit.text.length - (edit.end - edit.start);
  return edit.start;
}

/** Whether `edit` changed the finding's own text (or typed at an empty finding): it may no longer hold. */
export function editTouches(f: Finding, edit: TextEditAt): boolean {
  const before = f.end <= edit.start && !(f.start === f.end && f.start === edit.start);
  return !before && f.start < edit.end;
}

/** The finding after `edit` to `path`: its place, and its related locations and fix edits in that file. */
export function shiftFinding(f: Finding, edit: TextEditAt, path: string): Finding {
  const at = (o: number) => mapOffset(o, edit);
  return {
    ...f,
    start: at(f.start),
    end: at(f.end),
    related: f.related.map((r) => (r.path === path ? { ...r, start: at(r.start), end: at(r.end) } : r)),
    fixes: f.fixes.map((fix) => ({ ...fix, edits: fix.edits.map((e) => (e.path === path ? { ...e, start: at(e.start), end: at(e.end) } : e)) })),
  };
}

/**
 * Where `offset` of the old text lands in the new one: [lo, hi]. Untouched text moves by the
 * edits before it (lo = hi); an offset inside a replaced span, or at an insertion point, may be
 * anywhere in the new text of that edit.
 */
export function mapThroughEdits(edits: readonly TextEdit[], offset: number): { lo: number; hi: number } {
  let delta = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    if (offset < e.start) break;
    if (offset === e.start || offset < e.end) return { lo: e.start + delta, hi: e.start + delta + e.newText.length };
    delta += e.newText.length - (e.end - e.start);
  }
  return { lo: offset + delta, hi: offset + delta };
}
