// Noise report: findings per rule over the Go standard library (mature concurrent code, so every
// finding there must be explainable). Writes NOISE.md with the counts and every finding.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const corpus = process.env.RACELENS_NOISE_CORPUS ?? '/usr/lib/go-1.19/src';
if (!fs.existsSync(corpus)) {
  console.error(`noise: ${corpus} is missing; install it with: apt-get install golang-1.19-src`);
  process.exit(2);
}
const t0 = performance.now();
const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'check', '--format', 'json', './...'], { cwd: corpus, encoding: 'utf8', maxBuffer: 1 << 29 });
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
if (r.status !== 0 && r.status !== 1) {
  console.error(r.stderr);
  process.exit(r.status ?? 2);
}
const findings = JSON.parse(r.stdout);
const rules = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'rules'], { encoding: 'utf8' }).stdout
  .split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
const counts = new Map(rules.map((id) => [id, 0]));
for (const f of findings) counts.set(f.ruleId, (counts.get(f.ruleId) ?? 0) + 1);
const table = ['| Rule | Findings |', '| --- | --- |', ...[...counts].map(([id, n]) => `| \`${id}\` | ${n} |`)].join('\n');
console.log(table);
console.log(`\n${findings.length} findings in ${seconds} s`);
const list = findings.map((f) => `- \`${f.path}:${f.line}\` [${f.ruleId}] ${f.message}`).join('\n');
fs.writeFileSync(path.join(root, 'NOISE.md'), `# Noise on the Go standard library

\`npm run noise\` runs \`racelens check ./...\` over \`${corpus}\` (Go 1.19, Debian's golang-1.19-src).
The standard library is mature concurrent code: every finding below must be explainable.

${table}

Total: ${findings.length} findings (${seconds} s).

## Every finding

${list}
`);
