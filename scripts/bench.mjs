// Batch benchmark: `racelens check` over the Go standard library against a bare web-tree-sitter
// parse of the same files, both on every core. Writes BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const corpus = process.env.RACELENS_BENCH_CORPUS ?? '/usr/lib/go-1.19/src';
if (!fs.existsSync(corpus)) {
  console.error(`bench: ${corpus} is missing; install it with: apt-get install golang-1.19-src`);
  process.exit(2);
}
const cores = os.availableParallelism();

function goFiles(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (!['vendor', 'testdata', 'node_modules'].includes(e.name) && !/^[._]/.test(e.name)) goFiles(p, out); }
    else if (e.isFile() && e.name.endsWith('.go')) out.push(p);
  }
  return out;
}

/** Bare parse on `cores` worker threads: read + parse + delete, nothing else. */
async function bareParse(files) {
  const grammars = path.join(root, 'grammars');
  const src = `
    const { parentPort, workerData } = require('worker_threads');
    const fs = require('fs');
    const { Parser, Language } = require(${JSON.stringify(require_('web-tree-sitter'))});
    (async () => {
      await Parser.init({ locateFile: (n) => ${JSON.stringify(grammars)} + '/' + n });
      const p = new Parser(); p.setLanguage(await Language.load(${JSON.stringify(grammars)} + '/tree-sitter-go.wasm'));
      for (const f of workerData) { const t = p.parse(fs.readFileSync(f, 'utf8')); t.delete(); }
      parentPort.postMessage('done');
    })();`;
  const shards = Array.from({ length: cores }, (_, i) => files.filter((_, j) => j % cores === i));
  const t0 = performance.now();
  await Promise.all(shards.map((s) => new Promise((res, rej) => {
    const w = new Worker(src, { eval: true, workerData: s });
    w.on('message', () => { void w.terminate(); res(); });
    w.on('error', rej);
  })));
  return performance.now() - t0;
}

function require_(name) { return path.join(root, 'node_modules', name, 'web-tree-sitter.cjs'); }

function timeCli(args, cwd) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(root, 'dist', 'cli.js'), ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  return { ms, rssMb: rssKb / 1024, findings: r.stdout.split('\n').filter(Boolean).length, code: r.status };
}

const files = goFiles(corpus);
const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
const parseMs = Math.min(await bareParse(files), await bareParse(files));
const runs = [timeCli(['check', './...'], corpus), timeCli(['check', './...'], corpus)];
const cli = runs.sort((a, b) => a.ms - b.ms)[0];
const mb = bytes / 1048576;
const result = {
  files: files.length, mb: +mb.toFixed(1), cores,
  bareParseS: +(parseMs / 1000).toFixed(2), cliS: +(cli.ms / 1000).toFixed(2),
  ratio: +(cli.ms / parseMs).toFixed(2), mbPerS: +(mb / (cli.ms / 1000)).toFixed(1),
  filesPerS: Math.round(files.length / (cli.ms / 1000)), peakRssMb: Math.round(cli.rssMb), findings: cli.findings,
};
console.log(JSON.stringify(result, null, 2));
if (process.argv.includes('--write')) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  fs.writeFileSync(path.join(root, 'BENCHMARKS.md'), `# Benchmarks

Machine: ${cpu}, ${cores} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. Corpus: \`${corpus}\`
(${result.files} files, ${result.mb} MB). Both timings use every core; best of two runs.

| Measure | Value | Target |
| --- | --- | --- |
| Bare web-tree-sitter parse (read + parse) | ${result.bareParseS} s | |
| \`racelens check ./...\` wall time | ${result.cliS} s | |
| Ratio racelens / bare parse | ${result.ratio}× | ≤ 1.3× |
| Throughput | ${result.mbPerS} MB/s, ${result.filesPerS} files/s | |
| Peak RSS (main process) | ${result.peakRssMb} MB | |
| Findings | ${result.findings} | |

Regenerate with \`npm run bench -- --write\`.
`);
}
