// Goldens pin each finding's preferred fix; this proves the alternatives ("Switch to sync.Map",
// "Wrap in mutex" next to the atomic rewrite, ...) also leave every fixture package gofmt-clean,
// vet-clean and building.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { applyEdits } from '../server/src/engine/text';
import { allRules } from '../server/src/rules';
import { analyzeTexts, goFilesIn, testParser } from './support/engine';
import { gofmtAndVet } from './support/go-toolchain';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

function packages(dir: string): string[] {
  const out = fs.readdirSync(dir).some((n) => n.endsWith('.go')) ? [dir] : [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...packages(path.join(dir, e.name)));
  return out;
}

describe('alternative fixes', () => {
  it('every non-preferred fix on the fixtures compiles, vets and is gofmt-clean', async () => {
    const p = await testParser();
    const seen = new Set<string>();
    let checked = 0;
    for (const dir of packages(FIXTURES)) {
      const texts = goFilesIn(dir);
      let baselineClean: boolean | undefined; // a fixture written for newer Go may not vet under 1.19 at all
      for (const f of analyzeTexts(p, texts, allRules)) {
        for (const fix of f.fixes) {
          if (fix.isPreferred) continue;
          const key = `${dir}:${fix.title}`;
          if (seen.has(key)) continue; // one package-wide rewrite is offered on every finding of its variable
          seen.add(key);
          baselineClean ??= gofmtAndVet(texts, true).length === 0;
          if (!baselineClean) continue;
          const fixed = new Map([...texts].map(([file, t]) => [file, applyEdits(t, fix.edits.filter((e) => e.path === file))]));
          assert.deepEqual(gofmtAndVet(fixed, true), [], `${path.relative(FIXTURES, dir)}: ${fix.title}`);
          checked++;
        }
      }
    }
    assert.ok(seen.has(`${path.join(FIXTURES, 'concurrent-map-access', 'syncmap')}:Switch to sync.Map`), 'the sync.Map alternative is offered');
    assert.ok(checked >= 3, `only ${checked} alternatives checked`);
  });
});
