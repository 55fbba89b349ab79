// analysistest-style expectations: `// want "regexp" ["regexp"...]` on each line that must be
// flagged. A line without `want` must stay silent.
import type { Finding } from '../../server/src/engine/rule';

function parseGoStrings(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      let j = i + 1, v = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) { v += s[j + 1] === '"' ? '"' : s[j] + s[j + 1]; j += 2; } else v += s[j++];
      }
      out.push(v);
      i = j + 1;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) break;
      out.push(s.slice(i + 1, j));
      i = j + 1;
    } else if (c === ' ' || c === '\t') i++;
    else break;
  }
  return out;
}

/** 0-based line → expected message patterns. */
export function parseWants(text: string): Map<number, RegExp[]> {
  const wants = new Map<number, RegExp[]>();
  text.split('\n').forEach((line, i) => {
    const m = /\/\/\s*want\s+(.*)$/.exec(line);
    if (m) wants.set(i, parseGoStrings(m[1]).map((r) => new RegExp(r)));
  });
  return wants;
}

/** Problems with `findings` against the wants of one file; empty when they agree exactly. */
export function compareWants(file: string, text: string, findings: readonly Finding[]): string[] {
  const wants = parseWants(text);
  const problems: string[] = [];
  const byLine = new Map<number, Finding[]>();
  for (const f of findings) byLine.set(f.range.start.line, [...(byLine.get(f.range.start.line) ?? []), f]);
  for (const [line, list] of byLine) {
    const pending = [...(wants.get(line) ?? [])];
    for (const f of list) {
      const i = pending.findIndex((re) => re.test(f.message));
      if (i >= 0) pending.splice(i, 1);
      else problems.push(`${file}:${line + 1}: unexpected diagnostic [${f.ruleId}] ${f.message}`);
    }
    wants.set(line, pending);
  }
  for (const [line, pending] of wants) {
    for (const re of pending) problems.push(`${file}:${line + 1}: no diagnostic matching ${re}`);
  }
  return problems;
}
