// The standing speed budgets: `racelens check` (every core) against a single-thread bare
// web-tree-sitter parse (read + parse + delete) of the same files, measured in one run.
//   node scripts/bench-budgets.mjs [--corpus ROOT] [stdlib] [net] [corpus]
// Prints a JSON array, one entry per set; BENCHMARKS.md records the latest run ("Standing budgets").
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(import.meta.url);
const { Parser, Language } = require(path.join(root, 'node_modules', 'web-tree-sitter', 'web-tree-sitter.cjs'));
const stdlib = process.env.RACELENS_BENCH_CORPUS ?? '/usr/lib/go-1.19/src';
const args = process.argv.slice(2);
const corpusAt = args.indexOf('--corpus');
const corpusRoot = corpusAt >= 0 ? args[corpusAt + 1] : undefined;
const wanted = args.filter((a, i) => !a.startsWith('--') && (corpusAt < 0 || i !== corpusAt + 1));
const sets = wanted.length ? wanted : ['stdlib', 'net', ...(corpusRoot ? ['corpus'] : [])];

const SKIP = new Set(['vendor', 'testdata', 'node_modules']);
function goFiles(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (!SKIP.has(e.name) && !/^[._]/.test(e.name)) goFiles(p, out); }
    else if (e.isFile() && e.name.endsWith('.go')) out.push(p);
  }
  return out;
}

await Parser.init({ locateFile: (n) => path.join(root, 'grammars', n) });
const parser = new Parser();
parser.setLanguage(await Language.load(path.join(root, 'grammars', 'tree-sitter-go.wasm')));

function bareParseMs(files) {
  const t0 = performance.now();
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    if (text.length > 5 * 1024 * 1024) continue; // racelens skips these too
    parser.parse(text)?.delete();
  }
  return performance.now() - t0;
}

function checkMs(dirs, cwd) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(root, 'dist', 'cli.js'), 'check', '--format', 'json', ...dirs], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  let findings = 0;
  try { findings = JSON.parse(r.stdout || '[]').length; } catch { findings = -1; }
  return { ms, rssMb: Math.round(Number(r.stderr.trim().split('\n').pop()) / 1024), findings };
}

/** Rounds of (bare parse, check), alternated so that a machine whose speed drifts slows both alike. */
const ROUNDS = Number(process.env.RACELENS_BENCH_ROUNDS ?? 3);

function measure(label, dirs, cwd) {
  const files = dirs.flatMap((d) => goFiles(path.resolve(cwd, d.replace(/\/\.\.\.$/, ''))));
  const parses = [], runs = [];
  for (let i = 0; i < ROUNDS; i++) { parses.push(bareParseMs(files)); runs.push(checkMs(dirs, cwd)); }
  const parse = Math.min(...parses);
  const best = runs.sort((a, b) => a.ms - b.ms)[0];
  return { set: label, files: files.length, bareParseS: +(parse / 1000).toFixed(2), checkS: +(best.ms / 1000).toFixed(2), ratio: +(best.ms / parse).toFixed(2), peakRssMb: best.rssMb, findings: best.findings };
}

const out = [];
for (const s of sets) {
  if (s === 'stdlib') out.push(measure('stdlib', ['./...'], stdlib));
  else if (s === 'net') out.push(measure('net/...', ['./net/...'], stdlib));
  else if (s === 'corpus' && corpusRoot) {
    const repos = fs.readdirSync(corpusRoot).filter((d) => fs.statSync(path.join(corpusRoot, d)).isDirectory()).sort();
    out.push(measure('corpus', repos.map((r) => `./${r}/...`), corpusRoot));
  }
}
console.log(JSON.stringify(out, null, 2));
