// `npm run fixcheck -- DIR...`: the fix-safety harness. For every preferred fix in the packages
// under each DIR, one at a time and in memory, it checks what verify-fix.ts checks (the result
// parses, the fix's own finding is gone, no new finding, the diff within bounds) and that the
// result is gofmt-clean, then prints the counts per DIR.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { newGoParser } from '../engine/parser';
import type { Fix } from '../engine/rule';
import { verifyFix } from '../engine/verify-fix';
import { checkFiles } from '../node/check';
import { initGoForNode } from '../node/grammar';
import { allRules } from '../rules';
import { resolveTargets } from './targets';

export interface FixCheckCounts {
  packages: number;
  findings: number;
  preferred: number;
  offered: number;
  unparsable: number;
  ownKept: number;
  newFindings: number;
  runaway: number;
  otherRefusals: number;
  notGofmtClean: number;
  refusals: string[];
}

const gofmtCache = new Map<string, boolean>();
/** Whether gofmt leaves the text as it is. */
function gofmtClean(text: string): boolean {
  let clean = gofmtCache.get(text);
  if (clean === undefined) {
    const r = spawnSync('gofmt', [], { input: text, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) throw new Error(`gofmt: ${r.error.message}`);
    clean = r.status === 0 && r.stdout === text;
    if (gofmtCache.size < 256) gofmtCache.set(text, clean);
  }
  return clean;
}

export async function fixCheck(root: string, log: (line: string) => void = () => {}): Promise<FixCheckCounts> {
  await initGoForNode();
  const parser = newGoParser();
  const counts: FixCheckCounts = { packages: 0, findings: 0, preferred: 0, offered: 0, unparsable: 0, ownKept: 0, newFindings: 0, runaway: 0, otherRefusals: 0, notGofmtClean: 0, refusals: [] };
  try {
    for (const batch of resolveTargets([path.join(root, '...')], root, () => false).batches) {
      const files = batch.files;
      counts.packages++;
      const before = checkFiles(parser, batch, allRules).findings;
      counts.findings += before.length;
      const seen = new Set<Fix>();
      for (const finding of before) {
        const fix = finding.fixes.find((x) => x.isPreferred);
        if (!fix || seen.has(fix)) continue;
        seen.add(fix);
        counts.preferred++;
        const read = (p: string) => fs.readFileSync(p, 'utf8');
        const verdict = await verifyFix({
          finding, fix, before, parser, read,
          inPackage: (p) => files.includes(p),
          analyze: (changed) => checkFiles(parser, batch, allRules, changed).findings,
        });
        const where = `${path.relative(root, finding.path)}:${finding.range.start.line + 1} ${finding.ruleId} "${fix.title}"`;
        if (!verdict.ok) {
          counts[verdict.kind]++;
          counts.refusals.push(`${where}: ${verdict.reason}`);
          log(`refused ${where}: ${verdict.reason}`);
          continue;
        }
        counts.offered++;
        const unformatted = [...verdict.changed].filter(([p, after]) => gofmtClean(read(p)) && !gofmtClean(after));
        if (unformatted.length) {
          counts.notGofmtClean++;
          log(`not gofmt-clean ${where}`);
        }
      }
    }
  } finally {
    parser.delete();
  }
  return counts;
}

export function countsTable(rows: readonly { name: string; counts: FixCheckCounts }[]): string {
  const head = '| Repository | Packages | Findings | Preferred fixes | Verified, offered | Refused: own finding kept | Refused: new finding | Refused: runaway | Refused: unparsable | Refused: other | Offered, not gofmt-clean |';
  const lines = [head, '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const { name, counts: c } of rows) {
    lines.push(`| ${name} | ${c.packages} | ${c.findings} | ${c.preferred} | ${c.offered} | ${c.ownKept} | ${c.newFindings} | ${c.runaway} | ${c.unparsable} | ${c.otherRefusals} | ${c.notGofmtClean} |`);
  }
  return lines.join('\n') + '\n';
}

async function main(argv: readonly string[]): Promise<number> {
  const dirs = argv.filter((a) => !a.startsWith('-'));
  if (!dirs.length) {
    process.stderr.write('usage: npm run fixcheck -- DIR...\n');
    return 2;
  }
  const rows = [];
  for (const dir of dirs) {
    const counts = await fixCheck(path.resolve(dir), (line) => process.stderr.write(`${path.basename(dir)}: ${line}\n`));
    rows.push({ name: path.basename(path.resolve(dir)), counts });
  }
  process.stdout.write(countsTable(rows));
  // The harness fails when an offered fix is unsafe: refusals are the verification working.
  return rows.some((r) => r.counts.notGofmtClean) ? 1 : 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
