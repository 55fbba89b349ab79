// Every rule has a docs page with the required sections, and the README table is generated.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { allRules } from '../server/src/rules';

const ROOT = path.join(__dirname, '..', '..');
const SECTIONS = ['## What it flags', '## Why it matters', '## Bad', '## Good', '## Fix', '## Not flagged', '## When to suppress'];

describe('rule documentation', () => {
  for (const rule of allRules) {
    it(`docs/rules/${rule.id}.md has every section`, () => {
      const doc = fs.readFileSync(path.join(ROOT, 'docs', 'rules', `${rule.id}.md`), 'utf8');
      assert.ok(doc.startsWith(`# ${rule.id}\n`));
      let at = 0;
      for (const s of SECTIONS) {
        const i = doc.indexOf(`\n${s}\n`, at);
        assert.ok(i > at, `${s} missing or out of order`);
        at = i;
      }
    });
  }

  it('no docs page without a rule', () => {
    const ids = new Set(allRules.map((r) => r.id));
    for (const f of fs.readdirSync(path.join(ROOT, 'docs', 'rules'))) assert.ok(ids.has(f.replace(/\.md$/, '')), f);
  });

  it('the README rule table is generated from the rule metadata', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'readme-rules.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
