// `racelens check [packages]`: the command-line front end. Spreads directories over worker
// threads (this same file, started as a worker) to use every core.
import * as fs from 'fs';
import * as path from 'path';
import type { Writable } from 'stream';
import { version } from '../../../package.json';
import { enabledRules, isExcluded, parseConfig, unknownRuleIds, type LoadedConfig } from '../engine/config';
import { finalize } from '../engine/finalize';
import { fixInRounds, refusalLines, type FixOutcome } from '../engine/fix-rounds';
import { newGoParser } from '../engine/parser';
import type { Finding } from '../engine/rule';
import { counted, unknownRuleMessage } from '../engine/words';
import { allRules } from '../rules';
import { checkFiles, emptyResult, type Batch, type CheckResult, type FileError } from '../node/check';
import { checkInWorkers, isCheckWorker, serveChecks } from '../node/check-pool';
import { loadConfig, relativeToRoot } from '../node/config';
import { initGoForNode } from '../node/grammar';
import { CHECK_USAGE, parseCheckArgs, RULES_USAGE, USAGE, UsageError, type CheckOptions } from './args';
import { ByteColumns } from './columns';
import { unifiedDiff } from './diff';
import { displayPath, formatGithub, formatJson, formatSarif, formatText } from './format';
import { Output } from './output';
import { resolveTargets, type Targets } from './targets';

function merge(into: CheckResult, r: CheckResult): void {
  into.findings.push(...r.findings);
  into.errors.push(...r.errors);
  into.files += r.files;
  into.packages += r.packages;
  into.bytes += r.bytes;
}

/** Runs the batches on `jobs` worker threads, or inline when one thread is enough. Order: see finalize. */
async function runBatches(batches: readonly Batch[], opts: CheckOptions, overlay?: Map<string, string>): Promise<CheckResult> {
  const total = emptyResult();
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
  await checkInWorkers(batches, { entry: __filename, jobs, ruleIds: opts.rules.map((r) => r.id), overlay }, (_, r) => merge(total, r));
  return total;
}

/** The config named by --config, or the nearest .racelens.json. */
function readConfig(opts: CheckOptions, cwd: string): LoadedConfig {
  if (!opts.config) return loadConfig(cwd);
  let text: string;
  try {
    text = fs.readFileSync(opts.config, 'utf8');
  } catch (e) {
    throw new Error(`${opts.config}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return { config: parseConfig(text, opts.config), root: path.dirname(path.resolve(opts.config)), file: opts.config };
}

/**
 * --fix / --diff: preferred fixes in rounds, each verified on its package (re-analysed alone).
 * Fixes edit only the files being reported on, and never one with syntax errors.
 */
async function fixRounds(findings: Finding[], targets: Targets, unparsable: Set<string>, opts: CheckOptions, show: (f: Finding[]) => Finding[]): Promise<FixOutcome> {
  const batchOf = new Map(targets.batches.map((b) => [path.dirname(b.files[0]), b]));
  await initGoForNode();
  const parser = newGoParser();
  try {
    return await fixInRounds({
      findings,
      read: (p) => fs.readFileSync(p, 'utf8'),
      packageOf: (p) => path.dirname(p),
      parser,
      canEdit: (p) => targets.reported.has(p) && !unparsable.has(p),
      analyzePackage: async (dir, texts) => {
        const batch = batchOf.get(dir);
        if (!batch) return [];
        const again = await runBatches([batch], { ...opts, jobs: 1 }, new Map(texts));
        for (const e of again.errors) if (e.kind === 'partial') unparsable.add(e.path);
        return show(again.findings);
      },
    });
  } finally {
    parser.delete();
  }
}

/** "3 findings (1 error, 2 warnings) in 4 files, 2 packages; 1 file skipped (0.21s)". */
function summaryLine(findings: readonly Finding[], result: CheckResult, notices: readonly FileError[], ms: number): string {
  const bySeverity = (['error', 'warning', 'info'] as const)
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => (s === 'info' ? `${n} info` : counted(n, s)));
  const head = findings.length ? `${counted(findings.length, 'finding')} (${bySeverity.join(', ')})` : 'no findings';
  const skipped = new Set(notices.filter((n) => n.kind === 'skipped').map((n) => n.path)).size;
  const partial = new Set(notices.filter((n) => n.kind === 'partial').map((n) => n.path)).size;
  const tail = [skipped && `${counted(skipped, 'file')} skipped`, partial && `${counted(partial, 'file')} with syntax errors`].filter(Boolean);
  return `racelens: ${head} in ${counted(result.files, 'file')}, ${counted(result.packages, 'package')}${tail.length ? `; ${tail.join(', ')}` : ''} (${(ms / 1000).toFixed(2)}s)\n`;
}

/** A file's text on disk, or undefined when it cannot be read. */
function readIfAny(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function noticeLine(cwd: string, n: FileError): string {
  const where = path.isAbsolute(n.path) ? displayPath(cwd, n.path) : n.path;
  return `racelens: ${where}${n.line ? `:${n.line}:${n.column}` : ''}: ${n.message}\n`;
}

async function check(opts: CheckOptions, cwd: string, out: Output, err: Output): Promise<number> {
  const started = Date.now();
  let loaded: LoadedConfig;
  try {
    loaded = readConfig(opts, cwd);
  } catch (e) {
    err.write(`racelens: ${(e as Error).message}\n`);
    return 2;
  }
  const knownIds = allRules.map((r) => r.id);
  for (const id of unknownRuleIds(loaded.config, knownIds)) err.write(`racelens: ${displayPath(cwd, loaded.file ?? '.racelens.json')}: ${unknownRuleMessage(id, knownIds)}\n`);
  opts.rules = enabledRules(opts.rules, loaded.config);
  const relative = (p: string) => {
    const rel = relativeToRoot(loaded.root, p);
    return rel.startsWith('../') || path.isAbsolute(rel) ? undefined : rel;
  };
  const show = (findings: readonly Finding[]) => finalize(findings, loaded.config, relative);
  const targets = resolveTargets(opts.paths, cwd, (f) => {
    const rel = relative(f);
    return rel !== undefined && isExcluded(rel, loaded.config);
  });
  const result = await runBatches(targets.batches, opts);
  const notices = [...targets.errors, ...targets.notices, ...result.errors]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.line ?? 0) - (b.line ?? 0)));
  let findings = show(result.findings);
  let texts = new Map<string, string>();
  let changed = false;
  if (opts.fix || opts.diff) {
    const unparsable = new Set(notices.filter((n) => n.kind === 'partial').map((n) => n.path));
    const outcome = await fixRounds(findings, targets, unparsable, opts, show);
    // Byte columns like every other line (of the text on disk, which the first round fixes).
    const diskColumns = new ByteColumns(readIfAny);
    for (const line of refusalLines(outcome.refused, (p) => displayPath(cwd, p), (f) => diskColumns.column(f.path, f.range.start))) err.write(`racelens: ${line}\n`);
    if (outcome.stopped) err.write(`racelens: ${outcome.stopped}\n`);
    findings = show(outcome.findings);
    texts = new Map([...outcome.changed].map(([p, c]) => [p, c.after]));
    changed = outcome.changed.size > 0;
    if (opts.fix) {
      for (const [p, after] of texts) fs.writeFileSync(p, after);
      err.write(`racelens: fixed ${counted(outcome.fixed, 'finding')} in ${counted(outcome.changed.size, 'file')}\n`);
    } else {
      for (const [p, { before, after }] of outcome.changed) out.write(unifiedDiff(displayPath(cwd, p), before, after));
    }
  }
  const columns = new ByteColumns((p) => texts.get(p) ?? readIfAny(p));
  if (opts.diff) {
    if (findings.length) err.write(`racelens: ${counted(findings.length, 'finding')} not fixed (no preferred fix, or a file that does not parse):\n${formatText(findings, cwd, columns)}`);
  } else if (opts.format === 'json') out.write(formatJson(findings, cwd, columns));
  else if (opts.format === 'sarif') out.write(formatSarif(findings, opts.rules, cwd, version));
  else if (opts.format === 'github') out.write(formatGithub(findings, cwd));
  else out.write(formatText(findings, cwd, columns));
  for (const n of notices) err.write(noticeLine(cwd, n));
  if (!opts.quiet) err.write(summaryLine(findings, result, notices, Date.now() - started));
  const failed = notices.some((n) => n.kind === 'error' || (n.kind === 'skipped' && targets.named.has(n.path)));
  if (failed) return 2;
  return findings.length || (opts.diff && changed) ? 1 : 0;
}

/** The README's rule table, generated from rule metadata. */
export function rulesMarkdown(): string {
  const rows = allRules.map((r) => `| [\`${r.id}\`](docs/rules/${r.id}.md) | ${r.severity} | ${r.title} | ${r.doc.replace(/\|/g, '\\|')} |`);
  return ['| Rule | Severity | Title | What it catches |', '| --- | --- | --- | --- |', ...rows].join('\n') + '\n';
}

/** `racelens rules`: id, severity and title in aligned columns. */
export function rulesTable(): string {
  const idWidth = Math.max(...allRules.map((r) => r.id.length)) + 2;
  const severityWidth = Math.max(...allRules.map((r) => r.severity.length)) + 2;
  return allRules.map((r) => `${r.id.padEnd(idWidth)}${r.severity.padEnd(severityWidth)}${r.title}\n`).join('');
}

const HELP_FLAGS = new Set(['--help', '-h']);

export async function main(argv: readonly string[], stdout: Writable = process.stdout, stderr: Writable = process.stderr): Promise<number> {
  const out = new Output(stdout);
  const err = new Output(stderr);
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-v' || command === 'version') { out.write(`racelens ${version}\n`); return 0; }
    if (!command) { err.write(USAGE); return 2; }
    if (HELP_FLAGS.has(command) || command === 'help') {
      out.write(rest[0] === 'check' ? CHECK_USAGE : rest[0] === 'rules' ? RULES_USAGE : USAGE);
      return 0;
    }
    if (command === 'rules') {
      if (rest.some((a) => HELP_FLAGS.has(a))) { out.write(RULES_USAGE); return 0; }
      const unknown = rest.find((a) => a !== '--markdown');
      if (unknown) throw new UsageError(`unknown flag ${unknown}`, { cause: RULES_USAGE });
      out.write(rest.includes('--markdown') ? rulesMarkdown() : rulesTable());
      return 0;
    }
    if (command !== 'check') throw new UsageError(`unknown command "${command}"`);
    let opts: CheckOptions;
    try {
      opts = parseCheckArgs(rest);
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(e.message, { cause: CHECK_USAGE });
      throw e;
    }
    if (opts.help) { out.write(CHECK_USAGE); return 0; }
    return await check(opts, process.cwd(), out, err);
  } catch (e) {
    if (e instanceof UsageError) { err.write(`racelens: ${e.message}\n\n${typeof e.cause === 'string' ? e.cause : USAGE}`); return 2; }
    err.write(`racelens: ${(e as Error).stack ?? e}\n`);
    return 2;
  }
}

if (isCheckWorker()) {
  void serveChecks();
} else if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
