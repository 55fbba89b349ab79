import type { Finding, Rule, SuppressionPass } from '../engine/rule';
import type { SourceFile } from '../engine/source-file';
import { deleteComment, type Suppression } from '../engine/suppress';
import { closestName } from '../engine/words';

const ID = 'unused-suppression';

/**
 * Stale `//racelens:ignore` comments, and ids in them that name no rule. Only known once the other
 * rules' findings were matched against the comments: checkSuppressions, not run.
 * `knownIds` gives every rule id racelens ships (rules/index.ts).
 */
export function unusedSuppressionRule(knownIds: () => ReadonlySet<string>): Rule {
  return {
    id: ID,
    title: 'Suppression that matches nothing',
    doc: 'A //racelens:ignore or //racelens:file-ignore comment that silences no finding: the code changed or the rule id is wrong. Remove it so that it cannot hide a future finding.',
    severity: 'info',
    scope: 'package',
    run() {
      // Nothing to do before the suppressions are matched: see checkSuppressions.
    },
    checkSuppressions(pass: SuppressionPass): Finding[] {
      const out: Finding[] = [];
      for (const file of pass.files) {
        for (const s of pass.suppressionsOf(file)) {
          if (s.kind !== 'racelens') continue; // //nolint is shared with other linters
          const unknown = s.rules === 'all' ? [] : [...s.rules].filter((id) => !knownIds().has(id));
          if (unknown.length) out.push(unknownIds(file, s, unknown, knownIds()));
          else if (!pass.used.has(s) && (s.rules === 'all' || [...s.rules].some((id) => pass.ran.has(id)))) out.push(unused(file, s));
        }
      }
      return out;
    },
  };
}

function finding(file: SourceFile, s: Suppression, message: string, fixes: Finding['fixes']): Finding {
  return { ruleId: ID, severity: 'info', path: file.path, start: s.start, end: s.end, range: file.rangeOf(s.start, s.end), message, related: [], fixes };
}

/** A suppression that silenced nothing, for rules that ran. */
function unused(file: SourceFile, s: Suppression): Finding {
  const ids = s.rules === 'all' ? 'any rule' : [...s.rules].join(', ');
  return finding(file, s, `this suppression of ${ids} matches no finding; remove it`, [
    { title: 'Remove the unused suppression', edits: [{ path: file.path, ...deleteComment(file.text, s.start, s.end) }], isPreferred: true, safe: true },
  ]);
}

/** Ids that name no rule: typos, most likely. The fix renames, but is not preferred: it may hide a finding. */
function unknownIds(file: SourceFile, s: Suppression, unknown: string[], known: ReadonlySet<string>): Finding {
  const text = file.text.slice(s.start, s.end);
  const parts = unknown.map((id) => {
    const guess = closestName(id, known);
    return { id, guess, text: `unknown rule ${id}${guess ? `; did you mean ${guess}?` : ''}` };
  });
  const fixes: Finding['fixes'] = parts.filter((p) => p.guess).map((p) => {
    const at = s.start + idOffset(text, p.id);
    return { title: `Change ${p.id} to ${p.guess}`, edits: [{ path: file.path, start: at, end: at + p.id.length, newText: p.guess! }] };
  });
  return finding(file, s, `${parts.map((p) => p.text).join('; ')} (see "racelens rules")`, fixes);
}

/** Where `id` stands in the comment's id list (the first word after the directive). */
function idOffset(comment: string, id: string): number {
  let at = /^\/\/\s*racelens:\S+\s+/.exec(comment)?.[0].length ?? 0;
  for (const listed of comment.slice(at).split(/\s/, 1)[0].split(',')) {
    if (listed === id) return at;
    at += listed.length + 1;
  }
  return comment.indexOf(id);
}
