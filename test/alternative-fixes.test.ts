// Goldens pin each finding's preferred fix; this proves the alternatives ("Switch to sync.Map",
// "Wrap in mutex" next to the atomic rewrite, ...) also leave every fixture package gofmt-clean,
// vet-clean and building.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

/** The fixture's go.mod asks for a Go newer than the 1.19 toolchain the tests run. */
function newerThanToolchain(dir: string): boolean {
  const mod = path.join(dir, 'go.mod');
  const version = fs.existsSync(mod) ? /^go\s+1\.(\d+)/m.exec(fs.readFileSync(mod, 'utf8'))?.[1] : undefined;
  return !!version && Number(version) > 19;
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
          // A fix for newer Go (context.WithoutCancel, go 1.21) cannot build with the 1.19 toolchain: gofmt only.
          const problems = gofmtAndVet(fixed, true);
          if (problems.length && newerThanToolchain(dir) && problems.every((x) => /not declared by package|undefined: /.test(x))) {
            for (const [file, t] of fixed) assert.equal(spawnSync('gofmt', [], { input: t, encoding: 'utf8' }).stdout, t, `${path.relative(FIXTURES, file)}: ${fix.title} is not gofmt-clean`);
            checked++;
            continue;
          }
          assert.deepEqual(problems, [], `${path.relative(FIXTURES, dir)}: ${fix.title}`);
          checked++;
        }
      }
    }
    assert.ok(seen.has(`${path.join(FIXTURES, 'concurrent-map-access', 'syncmap')}:Switch to sync.Map`), 'the sync.Map alternative is offered');
    assert.ok(checked >= 3, `only ${checked} alternatives checked`);
  });
});
