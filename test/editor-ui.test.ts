// What the editor shows beyond squiggles: the status-bar item, the hover, related locations.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusLabel } from '../client/src/status';
import type { Finding } from '../server/src/engine/rule';
import { hoverMarkdown, toDiagnostic } from '../server/src/lsp/convert';
import { docsUrl, ruleById } from '../server/src/rules';

const at = (line: number, character: number) => ({ start: { line, character }, end: { line, character: character + 4 } });

function finding(related: { path: string; line: number }[]): Finding {
  return {
    ruleId: 'concurrent-map-access', severity: 'error', path: '/w/a.go', start: 0, end: 4, range: at(9, 1), message: 'm',
    related: related.map((r) => ({ path: r.path, start: 0, end: 0, range: at(r.line, 2), message: 'there' })), fixes: [],
  };
}

describe('status bar', () => {
  const counts = (errors: number, warnings: number, infos: number) => ({ state: 'ready' as const, errors, warnings, infos });

  it('shows the icon of the worst severity found', () => {
    assert.equal(statusLabel(counts(1, 3, 2), true).text, '$(error) racelens 6');
    assert.equal(statusLabel(counts(0, 3, 2), true).text, '$(warning) racelens 5');
    assert.equal(statusLabel(counts(0, 0, 2), true).text, '$(info) racelens 2');
    assert.equal(statusLabel(counts(0, 0, 0), true).text, '$(check) racelens');
  });

  it('counts in the tooltip with the right plurals, and names the other states', () => {
    assert.match(statusLabel(counts(1, 2, 1), true).tooltip, /^racelens: 1 error, 2 warnings, 1 info\./);
    assert.match(statusLabel(undefined, false).text, /^\$\(error\) racelens$/);
    assert.match(statusLabel(undefined, false).tooltip, /not running/);
    assert.match(statusLabel({ ...counts(0, 0, 0), state: 'scanning' }, true).text, /loading~spin/);
    assert.match(statusLabel({ ...counts(0, 0, 0), state: 'disabled' }, true).text, /circle-slash/);
  });

  it('spins while a file is being re-checked, keeping the counts shown', () => {
    const label = statusLabel({ ...counts(1, 0, 0), stale: 1 }, true);
    assert.equal(label.text, '$(sync~spin) racelens 1');
    assert.match(label.tooltip, /Re-checking 1 file: shown as before the last edits\./);
  });
});

describe('hover', () => {
  it('is clean markdown: the title in bold, severity and a linked rule id, the doc', () => {
    const rule = ruleById('concurrent-map-access')!;
    assert.equal(hoverMarkdown(finding([])), `**${rule.title}**\n\nracelens error · [concurrent-map-access](${docsUrl(rule.id)})\n\n${rule.doc}`);
    assert.doesNotMatch(hoverMarkdown(finding([])), /\(`/);
  });
});

describe('related locations', () => {
  it('leave out the ones on the finding\'s own line, keep the others', () => {
    const d = toDiagnostic(finding([{ path: '/w/a.go', line: 9 }, { path: '/w/a.go', line: 12 }, { path: '/w/b.go', line: 9 }]), (p) => `file://${p}`);
    assert.deepEqual(d.relatedInformation?.map((r) => `${r.location.uri}:${r.location.range.start.line}`), ['file:///w/a.go:12', 'file:///w/b.go:9']);
    assert.equal(toDiagnostic(finding([{ path: '/w/a.go', line: 9 }]), (p) => p).relatedInformation, undefined);
  });
});
