// Findings moved along edits (engine/shift.ts): the one mechanism behind the incremental re-check
// and the editor's carried package findings.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../server/src/engine/rule';
import { editTouches, shiftFinding } from '../server/src/engine/shift';

const zero = { line: 0, character: 0 };
function finding(start: number, end: number): Finding {
  return {
    ruleId: 'r', severity: 'warning', path: 'a.go', start, end, range: { start: zero, end: zero }, message: 'm',
    related: [{ path: 'a.go', start: 40, end: 44, message: 'x', range: { start: zero, end: zero } }, { path: 'b.go', start: 40, end: 44, message: 'y', range: { start: zero, end: zero } }],
    fixes: [{ title: 't', edits: [{ path: 'a.go', start: 50, end: 52, newText: '' }, { path: 'b.go', start: 50, end: 52, newText: '' }] }],
  };
}

describe('moving findings along edits', () => {
  it('an edit before a finding moves it, its related places and its fix edits in that file only', () => {
    const moved = shiftFinding(finding(20, 30), { start: 5, end: 7, text: 'hello' }, 'a.go');
    assert.deepEqual([moved.start, moved.end], [23, 33]);
    assert.deepEqual(moved.related.map((r) => [r.path, r.start]), [['a.go', 43], ['b.go', 40]]);
    assert.deepEqual(moved.fixes[0].edits.map((e) => [e.path, e.start]), [['a.go', 53], ['b.go', 50]]);
  });

  it('an edit after a finding leaves its place alone', () => {
    const moved = shiftFinding(finding(20, 30), { start: 35, end: 35, text: 'x' }, 'a.go');
    assert.deepEqual([moved.start, moved.end], [20, 30]);
    assert.equal(moved.related[0].start, 41);
  });

  it('says which edits touch a finding\'s text', () => {
    const f = finding(20, 30);
    assert.equal(editTouches(f, { start: 25, end: 26, text: '' }), true, 'inside');
    assert.equal(editTouches(f, { start: 10, end: 21, text: '' }), true, 'overlapping its start');
    assert.equal(editTouches(f, { start: 30, end: 30, text: 'x' }), false, 'typing right after it');
    assert.equal(editTouches(f, { start: 20, end: 20, text: 'x' }), false, 'typing right before it');
    assert.equal(editTouches(finding(20, 20), { start: 20, end: 22, text: '' }), true, 'deleting at an empty finding');
  });
});
