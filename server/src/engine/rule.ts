// The rule interface, modelled on golang.org/x/tools/go/analysis: metadata plus run(pass).
import type { Node } from 'web-tree-sitter';
import type { Fact } from './fact';
import type { Package } from './package';
import type { SourceFile } from './source-file';
import type { Suppression } from './suppress';
import type { Range, Span, TextEdit } from './text';

export type Severity = 'error' | 'warning' | 'info';

export interface Rule {
  /** Stable id: the diagnostic code, the docs page name and the fixture folder name. */
  id: string;
  title: string;
  /** One or two sentences: what is wrong and what to do. Shown on hover. */
  doc: string;
  severity: Severity;
  /**
   * 'package': needs the whole package's model (shared state, locks) and is re-run only when the
   * editor is idle. Other rules look at one file at a time and run on every keystroke.
   *
   * 'declaration': a file rule whose findings in a top-level declaration depend only on that
   * declaration's code (not on where it is: messages quote no line numbers), the file's imports,
   * whether the file uses CRLF, and the package's declarations outside function bodies. Each
   * finding, its related locations and its fixes lie in the declaration that produced it, and a
   * whole-file text test the rule makes is one that declaration passes itself (no names gathered
   * from all of the text). As you type in a function body, only that function is re-checked
   * (engine/incremental.ts), the rule looking for candidates in pass.spans(file).
   */
  scope?: 'package' | 'declaration';
  /** The facts (engine/fact.ts) the rule asks its pass for, as go/analysis' Requires. */
  requires?: readonly Fact<unknown>[];
  run(pass: Pass): void;
  /**
   * For a rule about the suppression comments themselves: its findings, made once the other
   * rules' findings were matched against the comments (engine/run-rules.ts settleFindings).
   */
  checkSuppressions?(pass: SuppressionPass): Finding[];
}

/** What checkSuppressions sees: the files, their suppression comments, which of them silenced something. */
export interface SuppressionPass {
  readonly files: readonly SourceFile[];
  suppressionsOf(file: SourceFile): readonly Suppression[];
  /** The suppressions that silenced a finding in this run. */
  readonly used: ReadonlySet<Suppression>;
  /** The ids of the rules that ran. */
  readonly ran: ReadonlySet<string>;
}

export interface FileEdit extends TextEdit { path: string }

export interface Fix {
  title: string;
  edits: FileEdit[];
  /** The one clear fix for the finding: `--fix` applies it and the editor marks it preferred. */
  isPreferred?: boolean;
  /** Keeps single-threaded behaviour (adds synchronisation, removes a stale comment): fix-all may apply it. */
  safe?: boolean;
}

export interface RelatedLocation { path: string; start: number; end: number; message: string }

export interface Report {
  file: SourceFile;
  node?: Node;
  start?: number;
  end?: number;
  message: string;
  related?: RelatedLocation[];
  fixes?: Fix[];
}

export interface Pass {
  readonly rule: Rule;
  readonly pkg: Package;
  /** The files to report on: the package's (generated files aside: no finding is shown there), or the ones just edited. */
  readonly files: readonly SourceFile[];
  /**
   * Where in `file` to look for candidates: the whole file, or for a rule with scope
   * 'declaration' as you type, the declarations an edit touched (findings elsewhere are dropped).
   */
  spans(file: SourceFile): readonly Span[];
  /** A fact the rule declared in `requires`, built once per package and shared by every rule. */
  get<T>(fact: Fact<T>): T;
  report(r: Report): void;
}

export interface RelatedInfo extends RelatedLocation { range: Range }

/** A reported problem, with positions resolved for printing and LSP. */
export interface Finding {
  ruleId: string;
  severity: Severity;
  path: string;
  start: number;
  end: number;
  range: Range;
  message: string;
  related: RelatedInfo[];
  fixes: Fix[];
}
