// Suppression comments, honoured by the editor and the CLI alike:
//   //racelens:ignore <rule-id>[,<rule-id>] <reason>   on the flagged line or the line above
//   //racelens:file-ignore <rule-id>[,...] <reason>    anywhere in the file
//   //nolint, //nolint:all, //nolint:racelens          golangci-lint's form
import { query } from './parser';
import type { Finding } from './rule';
import type { SourceFile } from './source-file';

export interface Suppression {
  /** 0-based line whose findings it silences; -1 for file-wide. */
  line: number;
  /** Rule ids, or 'all'. */
  rules: Set<string> | 'all';
  start: number;
  end: number;
  kind: 'racelens' | 'nolint';
}

function parse(text: string): Pick<Suppression, 'rules' | 'kind'> & { fileWide: boolean } | undefined {
  let m = /^\/\/\s*racelens:(ignore|file-ignore)\s+([\w*,-]+)/.exec(text);
  if (m) {
    const ids = m[2].split(',').filter(Boolean);
    return { rules: ids.includes('*') || ids.includes('all') ? 'all' : new Set(ids), kind: 'racelens', fileWide: m[1] === 'file-ignore' };
  }
  m = /^\/\/nolint(?::([\w,/-]+))?(?:\s|$)/.exec(text);
  if (!m) return undefined;
  const linters = m[1]?.split(',') ?? ['all'];
  if (!linters.includes('all') && !linters.includes('racelens')) return undefined;
  return { rules: 'all', kind: 'nolint', fileWide: false };
}

export function readSuppressions(file: SourceFile): Suppression[] {
  const text = file.text;
  if (!text.includes('racelens:') && !text.includes('nolint')) return [];
  const out: Suppression[] = [];
  for (const { node } of query('(comment) @c').captures(file.root)) {
    const parsed = parse(file.textOf(node));
    if (!parsed) continue;
    const pos = file.positionAt(node.startIndex);
    const lineStart = file.lines.lineStart(pos.line);
    const alone = text.slice(lineStart, node.startIndex).trim() === '';
    out.push({
      line: parsed.fileWide ? -1 : alone ? pos.line + 1 : pos.line,
      rules: parsed.rules,
      start: node.startIndex,
      end: node.endIndex,
      kind: parsed.kind,
    });
  }
  return out;
}

export function suppresses(s: Suppression, f: Finding): boolean {
  return (s.line === -1 || s.line === f.range.start.line) && (s.rules === 'all' || s.rules.has(f.ruleId));
}

/** Removes a comment: its whole line when alone, else the comment and the space before it. */
export function deleteComment(text: string, start: number, end: number): { start: number; end: number; newText: string } {
  let s = start;
  while (s > 0 && (text[s - 1] === ' ' || text[s - 1] === '\t')) s--;
  const alone = s === 0 || text[s - 1] === '\n';
  if (alone) {
    const eol = text.indexOf('\n', end);
    return { start: s, end: eol === -1 ? text.length : eol + 1, newText: '' };
  }
  return { start: s, end, newText: '' };
}
