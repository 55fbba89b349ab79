// Command-line arguments of `racelens check` and the usage text of each command.
import * as os from 'os';
import type { Rule } from '../engine/rule';
import { unknownRuleMessage } from '../engine/words';
import { allRules } from '../rules';
import { FORMATS, type Format } from './format';

export const USAGE = `usage: racelens check [flags] [packages]
       racelens rules [--markdown]
       racelens --version

Finds concurrency and runtime-misuse hazards in Go code.
Run "racelens check --help" or "racelens rules --help" for a command's flags.
`;

export const CHECK_USAGE = `usage: racelens check [flags] [packages]

Checks Go packages for concurrency and runtime-misuse hazards.

Packages, as the go tool names them:
  ./...          every package under the current directory (the default)
  ./dir/...      every package under dir
  ./dir          the package in dir only
  file.go        one file, checked in its package's context; only its findings are reported

Flags:
  -f, --format F  text (default; path:line:col with byte columns, as go vet prints), json,
                  sarif or github (workflow-command annotations for GitHub Actions)
  --fix           apply the preferred fixes in place (never to a file with syntax errors)
  --diff          print the preferred fixes as a unified diff; change nothing
  -j, --jobs N    worker threads (default: the number of cores)
  --rules ids     run only these rules (comma-separated; see "racelens rules")
  --config file   use this .racelens.json instead of the nearest one
  -q, --quiet     no summary line on stderr
  -h, --help      this text

Exit status: 0 no findings, 1 findings, 2 usage error, or a named path that could not be checked.
Configuration: the nearest .racelens.json ({"rules": {"<id>": "error|warning|info|off"}, "exclude": [globs]}).
Suppress one finding with //racelens:ignore <rule-id> <reason> on its line or the line above.
`;

export const RULES_USAGE = `usage: racelens rules [--markdown]

Lists the rules: id, default severity and title.

Flags:
  --markdown  the README's rule table
  -h, --help  this text
`;

export interface CheckOptions {
  format: Format;
  fix: boolean;
  diff: boolean;
  jobs: number;
  rules: Rule[];
  paths: string[];
  config?: string;
  quiet: boolean;
  help: boolean;
}

export class UsageError extends Error {}

export function parseCheckArgs(argv: readonly string[]): CheckOptions {
  const opts: CheckOptions = {
    format: 'text', fix: false, diff: false, jobs: os.availableParallelism?.() ?? os.cpus().length, rules: [...allRules], paths: [], quiet: false, help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const flag = a.startsWith('-') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (flag === '--format' || flag === '-f') {
      const v = value();
      if (!(FORMATS as readonly string[]).includes(v)) throw new UsageError(`unknown format "${v}" (want ${FORMATS.join(', ')})`);
      opts.format = v as Format;
    } else if (flag === '--fix') opts.fix = true;
    else if (flag === '--diff') opts.diff = true;
    else if (flag === '--quiet' || flag === '-q') opts.quiet = true;
    else if (flag === '--help' || flag === '-h') opts.help = true;
    else if (flag === '--jobs' || flag === '-j') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new UsageError('--jobs wants a whole number of at least 1');
      opts.jobs = n;
    } else if (flag === '--rules') {
      const ids = value().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = ids.filter((id) => !allRules.some((r) => r.id === id));
      if (unknown.length) throw new UsageError(`${unknown.map((id) => unknownRuleMessage(id, allRules.map((r) => r.id))).join('; ')} (see "racelens rules")`);
      opts.rules = allRules.filter((r) => ids.includes(r.id));
    } else if (flag === '--config') opts.config = value();
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown flag ${a}`);
    else opts.paths.push(a);
  }
  if (opts.fix && opts.diff) throw new UsageError('--fix and --diff cannot be used together');
  return opts;
}
