// Regenerates the rule table in README.md from the rule metadata (between the rules markers).
// `--check` exits 1 when the README is out of date.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const table = execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'rules', '--markdown'], { encoding: 'utf8' });
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const updated = readme.replace(/(<!-- rules:start -->\n)[\s\S]*?(<!-- rules:end -->)/, `$1${table}$2`);
if (process.argv.includes('--check')) {
  if (updated !== readme) { console.error('README.md rule table is stale: run node scripts/readme-rules.mjs'); process.exit(1); }
} else {
  writeFileSync(readmePath, updated);
}
