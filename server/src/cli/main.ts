// `racelens check [paths|./...]`: the command-line front end. Spreads directories over worker
// threads (this same file, started as a worker) to use every core.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { version } from '../../../package.json';
import { newGoParser } from '../engine/parser';
import type { Finding, Rule } from '../engine/rule';
import { allRules } from '../rules';
import { initGoForNode } from '../node/grammar';
import { batchesByDirectory, checkFiles, type CheckResult, type FileError } from '../node/check';
import { checkInWorkers, isCheckWorker, serveChecks } from '../node/check-pool';
import { expandPaths } from '../node/files';
import { loadConfig, relativeToRoot } from '../node/config';
import { applySeverities, enabledRules, isExcluded, parseConfig, type LoadedConfig } from '../engine/config';
import { fixInRounds, refusalLines, type FixOutcome } from '../engine/fix-rounds';
import { unifiedDiff } from './diff';
import { formatJson, formatSarif, formatText } from './format';

const USAGE = `usage: racelens check [--format text|json|sarif] [--fix | --diff] [--jobs N] [--rules id,...] [--config file] [paths | ./...]
       racelens rules [--markdown]
       racelens --version

Finds concurrency and runtime-misuse hazards in Go code.
Exit status: 0 no findings, 1 findings, 2 usage error or files that could not be read.
Configuration: the nearest .racelens.json ({"rules": {"<id>": "error|warning|info|off"}, "exclude": [globs]}).
Suppress one finding with //racelens:ignore <rule-id> <reason> on its line or the line above.
`;

interface Options { format: 'text' | 'json' | 'sarif'; fix: boolean; diff: boolean; jobs: number; rules: Rule[]; paths: string[]; config?: string }

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { format: 'text', fix: false, diff: false, jobs: os.availableParallelism?.() ?? os.cpus().length, rules: [...allRules], paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (flag === '--format' || flag === '-f') {
      const v = value();
      if (v !== 'text' && v !== 'json' && v !== 'sarif') throw new UsageError(`unknown format "${v}" (want text, json or sarif)`);
      opts.format = v;
    } else if (flag === '--fix') opts.fix = true;
    else if (flag === '--diff') opts.diff = true;
    else if (flag === '--jobs' || flag === '-j') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new UsageError('--jobs wants a whole number of at least 1');
      opts.jobs = n;
    } else if (flag === '--rules') {
      const ids = value().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = ids.filter((id) => !allRules.some((r) => r.id === id));
      if (unknown.length) throw new UsageError(`unknown rule ${unknown.join(', ')} (see "racelens rules")`);
      opts.rules = allRules.filter((r) => ids.includes(r.id));
    } else if (flag === '--config') opts.config = value();
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown flag ${a}`);
    else opts.paths.push(a);
  }
  if (opts.fix && opts.diff) throw new UsageError('--fix and --diff cannot be used together');
  return opts;
}

function merge(into: CheckResult, r: CheckResult): void {
  into.findings.push(...r.findings);
  into.errors.push(...r.errors);
  into.files += r.files;
  into.bytes += r.bytes;
}

/** Runs the batches on `jobs` worker threads, or inline when one thread is enough. */
async function runBatches(batches: string[][], opts: Options, overlay?: Map<string, string>): Promise<CheckResult> {
  const total: CheckResult = { findings: [], errors: [], files: 0, bytes: 0 };
  const ruleIds = opts.rules.map((r) => r.id);
  const jobs = Math.min(opts.jobs, batches.length);
  if (jobs <= 1) {
    await initGoForNode();
    const parser = newGoParser();
    try {
      for (const b of batches) merge(total, checkFiles(parser, b, opts.rules, overlay));
    } finally {
      parser.delete();
    }
    return total;
  }
  await checkInWorkers(batches, { entry: __filename, jobs, ruleIds, overlay }, (_, r) => merge(total, r));
  total.findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.start - b.start));
  total.errors.sort((a, b) => (a.path < b.path ? -1 : 1));
  return total;
}

/** --fix / --diff: preferred fixes in rounds, each verified on its package (re-analysed alone). */
async function fixRounds(result: CheckResult, opts: Options): Promise<FixOutcome> {
  await initGoForNode();
  const parser = newGoParser();
  const filesOf = new Map<string, string[]>();
  try {
    return await fixInRounds({
      findings: result.findings,
      read: (p) => fs.readFileSync(p, 'utf8'),
      packageOf: (p) => path.dirname(p),
      parser,
      analyzePackage: async (dir, texts) => {
        if (!filesOf.has(dir)) filesOf.set(dir, expandPaths([dir]).files);
        const again = await runBatches([filesOf.get(dir)!], { ...opts, jobs: 1 }, new Map(texts));
        return again.findings;
      },
    });
  } finally {
    parser.delete();
  }
}

/** The README's rule table, generated from rule metadata. */
export function rulesMarkdown(): string {
  const rows = allRules.map((r) => `| [\`${r.id}\`](docs/rules/${r.id}.md) | ${r.severity} | ${r.title} | ${r.doc.replace(/\|/g, '\\|')} |`);
  return ['| Rule | Severity | Title | What it catches |', '| --- | --- | --- | --- |', ...rows].join('\n') + '\n';
}

export async function main(argv: readonly string[], out = process.stdout, err = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-v') { out.write(`racelens ${version}\n`); return 0; }
    if (!command || command === '--help' || command === '-h' || command === 'help') { (command ? out : err).write(USAGE); return command ? 0 : 2; }
    if (command === 'rules') {
      out.write(rest.includes('--markdown') ? rulesMarkdown() : allRules.map((r) => `${r.id.padEnd(24)} ${r.severity.padEnd(8)} ${r.title}\n`).join(''));
      return 0;
    }
    if (command !== 'check') throw new UsageError(`unknown command "${command}"`);
    const opts = parseArgs(rest);
    const cwd = process.cwd();
    let loaded: LoadedConfig;
    try {
      loaded = opts.config ? { config: parseConfig(fs.readFileSync(opts.config, 'utf8'), opts.config), root: path.dirname(path.resolve(opts.config)), file: opts.config } : loadConfig(cwd);
    } catch (e) {
      err.write(`racelens: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${opts.config}: no such file` : (e as Error).message}\n`);
      return 2;
    }
    opts.rules = enabledRules(opts.rules, loaded.config);
    const walked = expandPaths(opts.paths, cwd);
    const files = walked.files.filter((f) => !isExcluded(relativeToRoot(loaded.root, f), loaded.config));
    const walkErrors = walked.errors;
    let result = await runBatches(batchesByDirectory(files), opts);
    result.errors.unshift(...walkErrors.map((e): FileError => ({ ...e, kind: 'error' })));
    if (opts.fix || opts.diff) {
      const fixedRun = await fixRounds(result, opts);
      result = { ...result, findings: fixedRun.findings };
      if (opts.fix) for (const [p, { after }] of fixedRun.changed) fs.writeFileSync(p, after);
      for (const line of refusalLines(fixedRun.refused, (p) => path.relative(cwd, p) || p)) err.write(`racelens: ${line}\n`);
      if (fixedRun.stopped) err.write(`racelens: ${fixedRun.stopped}\n`);
      if (opts.diff) {
        for (const [p, { before, after }] of fixedRun.changed) out.write(unifiedDiff(path.relative(cwd, p), before, after));
        if (fixedRun.changed.size) return result.errors.some((e) => e.kind === 'error') ? 2 : 1;
      } else {
        err.write(`racelens: fixed ${fixedRun.fixed} finding${fixedRun.fixed === 1 ? '' : 's'} in ${fixedRun.changed.size} file${fixedRun.changed.size === 1 ? '' : 's'}\n`);
      }
    }
    const findings: Finding[] = applySeverities(result.findings, loaded.config);
    if (!opts.diff) {
      if (opts.format === 'json') out.write(formatJson(findings, cwd));
      else if (opts.format === 'sarif') out.write(formatSarif(findings, opts.rules, cwd, version));
      else out.write(formatText(findings, cwd));
    }
    for (const e of result.errors) err.write(`racelens: ${path.relative(cwd, e.path) || e.path}: ${e.message}\n`);
    if (result.errors.some((e) => e.kind === 'error')) return 2;
    if (files.length === 0 && walkErrors.length === 0) err.write('racelens: no .go files found\n');
    return findings.length ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError) { err.write(`racelens: ${e.message}\n\n${USAGE}`); return 2; }
    err.write(`racelens: ${(e as Error).stack ?? e}\n`);
    return 2;
  }
}

if (isCheckWorker()) {
  void serveChecks();
} else if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
