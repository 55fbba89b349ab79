// The fixture runner: every rule's folder test/fixtures/<rule-id>/ holds Go packages annotated
// with `// want "re"`. Unexpected or missing diagnostics fail; `.golden` files pin fix output,
// which must also pass gofmt and go vet.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Rule } from '../server/src/engine/rule';
import { allRules } from '../server/src/rules';
import { analyzeTexts, fixTexts, goFilesIn, testParser } from './support/engine';
import { gofmtAndVet } from './support/go-toolchain';
import { compareWants } from './support/want';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

/** A rule runs alone, except unused-suppression, which needs the rules it watches to have run. */
function rulesFor(rule: Rule): readonly Rule[] {
  return rule.id === 'unused-suppression' ? allRules : [rule];
}

function packageDirs(dir: string): string[] {
  const dirs = fs.readdirSync(dir).some((n) => n.endsWith('.go')) ? [dir] : [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) dirs.push(...packageDirs(path.join(dir, e.name)));
  }
  return dirs;
}

describe('rule fixtures', () => {
  it('every fixture folder belongs to a rule', () => {
    const ids = new Set(allRules.map((r) => r.id));
    for (const name of fs.readdirSync(FIXTURES)) assert.ok(ids.has(name), `test/fixtures/${name} matches no rule id`);
  });

  for (const rule of allRules) {
    describe(rule.id, () => {
      const root = path.join(FIXTURES, rule.id);

      it('has flagged and silent cases', () => {
        assert.ok(fs.existsSync(root), `missing test/fixtures/${rule.id}/`);
        const texts = packageDirs(root).flatMap((d) => [...goFilesIn(d).values()]);
        assert.ok(texts.some((t) => /\/\/\s*want\s/.test(t)), 'no `// want` line: nothing proves the rule fires');
        assert.ok(texts.some((t) => !/\/\/\s*want\s/.test(t)), 'no file without `want`: nothing proves the rule stays silent');
      });

      for (const dir of fs.existsSync(root) ? packageDirs(root) : []) {
        const rel = path.relative(FIXTURES, dir);
        it(`diagnostics match want comments in ${rel}`, async () => {
          const p = await testParser();
          const texts = goFilesIn(dir);
          const findings = analyzeTexts(p, texts, rulesFor(rule)).filter((f) => f.ruleId === rule.id);
          const problems = [...texts].flatMap(([file, text]) =>
            compareWants(path.relative(FIXTURES, file), text, findings.filter((f) => f.path === file)));
          assert.deepEqual(problems, []);
        });

        const goldens = fs.readdirSync(dir).filter((n) => n.endsWith('.go.golden'));
        it(`fixes match golden files in ${rel}`, async () => {
          const p = await testParser();
          const texts = goFilesIn(dir);
          const findings = analyzeTexts(p, texts, rulesFor(rule)).filter((f) => f.ruleId === rule.id);
          const fixable = findings.filter((f) => f.fixes.some((x) => x.isPreferred));
          const outcome = await fixTexts(p, texts, rulesFor(rule), rule.id);
          for (const f of fixable) {
            assert.ok(goldens.includes(path.basename(f.path) + '.golden'), `${path.basename(f.path)} has a fixable finding but no .golden file`);
          }
          for (const g of goldens) {
            const file = path.join(dir, g.replace(/\.golden$/, ''));
            const want = fs.readFileSync(path.join(dir, g), 'utf8');
            assert.equal(outcome.changed.get(file)?.after ?? texts.get(file), want, `fix output of ${g}`);
          }
          if (goldens.length) {
            const fixed = new Map([...texts].map(([f, t]) => [f, outcome.changed.get(f)?.after ?? t]));
            assert.deepEqual(gofmtAndVet(fixed, true), [], 'fixed package must be gofmt-clean, pass go vet and build');
          }
        });
      }
    });
  }
});
