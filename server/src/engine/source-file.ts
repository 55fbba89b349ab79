// One parsed Go file: text, tree, line index, imports and an index of qualified calls.
// Supports incremental edits (tree.edit + reparse) in UTF-16 units.
import type { Node, Parser, Tree } from 'web-tree-sitter';
import { Edit } from 'web-tree-sitter';
import { ChangeLog, type LoggedChange } from './change-log';
import { readImports, type ImportSpec } from './imports';
import { tooLarge } from './limits';
import type { ParseBudget } from './parse-budget';
import { isLocallyDeclared } from './scope';
import { LineIndex, LiteralCounts, advancePoint, treePointAt, type Position, type Range } from './text';


export interface QualifiedCall { call: Node; name: string; qualifier?: Node }

/** A change in the units LSP uses: replace [start, end) of the current text with `text`. */
export interface TextChange { start: number; end: number; text: string }

let revisions = 0;

export class SourceFile {
  private lineIndex?: LineIndex;
  private importTable?: ImportSpec[];
  private callIndex?: Map<string, QualifiedCall[]>;

  private constructor(readonly path: string, private currentText: string, private currentTree: Tree) {}

  private version = ++revisions;

  /** Changes whenever the text or tree does; unique across files, so it identifies a version. */
  get revision(): number { return this.version; }

  private readonly log = new ChangeLog();

  /** The number of changes so far: a mark for changesSince(). */
  get changeCount(): number { return this.log.count; }

  /** Edits and reparses since changeCount was `mark`, oldest first; undefined when no longer known. */
  changesSince(mark: number): readonly LoggedChange[] | undefined { return this.log.since(mark); }

  /** Why the file is not parsed (too large); its tree is empty and it takes part in no package. */
  skipped?: string;

  static parse(parser: Parser, path: string, text: string): SourceFile {
    // Larger files are generated tables, not code a person races on: not parsed.
    const large = tooLarge(text.length);
    if (large) {
      const tree = parser.parse('');
      if (!tree) throw new Error(`parse failed: ${path}`);
      const file = new SourceFile(path, text, tree);
      file.skipped = large;
      return file;
    }
    const tree = parser.parse(text);
    if (!tree) throw new Error(`parse failed: ${path}`);
    return new SourceFile(path, text, tree);
  }

  /** `// Code generated ... DO NOT EDIT.` before the package clause (the Go convention). */
  get isGenerated(): boolean {
    if (this.generated === undefined) {
      const head = this.currentText.slice(0, Math.max(0, this.currentText.search(/^package\s/m)));
      this.generated = /^\/\/ Code generated .* DO NOT EDIT\.$/m.test(head);
    }
    return this.generated;
  }

  private generated?: boolean;

  get text(): string { return this.currentText; }
  get tree(): Tree { return this.currentTree; }
  get root(): Node { return this.currentTree.rootNode; }
  get isTest(): boolean { return this.path.endsWith('_test.go'); }
  get lines(): LineIndex { return (this.lineIndex ??= new LineIndex(this.currentText)); }

  private readonly literals = new LiteralCounts();

  /** Whether the text contains `literal`; kept current through edits, so cheap on every keystroke. */
  contains(literal: string): boolean { return this.literals.count(this.currentText, literal) > 0; }

  /** The matches of a global `re`, every match of which contains `literal` (looked up first). */
  matchesWith(literal: string, re: RegExp): Iterable<RegExpMatchArray> {
    return this.contains(literal) ? this.currentText.matchAll(re) : [];
  }

  private cachedPackageName?: string | null;

  /**
   * The package clause's name. Comments, build constraints and blank lines may come first, in any
   * number; the first other top-level node ends the search (an ERROR node is looked into, since a
   * half-typed header can swallow the clause).
   */
  get packageName(): string | undefined {
    if (this.cachedPackageName === undefined) {
      this.cachedPackageName = null;
      const root = this.root;
      for (let i = 0, n = root.namedChildCount; i < n; i++) {
        const child = root.namedChild(i);
        const type = child?.type;
        if (!child) break;
        if (type === 'comment') continue;
        const clause = type === 'package_clause' ? child : type === 'ERROR' ? child.namedChildren.find((c) => c?.type === 'package_clause') : undefined;
        this.cachedPackageName = clause?.namedChild(0)?.text ?? null;
        break;
      }
    }
    return this.cachedPackageName ?? undefined;
  }

  /** Why racelens does not check this file at all (too large, or no package clause); undefined when it does. */
  get notChecked(): string | undefined {
    if (this.skipped) return this.skipped;
    return this.packageName === undefined ? 'no package clause (a Go file starts with "package <name>")' : undefined;
  }

  get imports(): ImportSpec[] { return (this.importTable ??= readImports(this.root)); }

  private topLevelNodes?: Node[];

  /** The top-level declarations, comments and errors. */
  get topLevel(): readonly Node[] { return (this.topLevelNodes ??= this.root.namedChildren.filter((n): n is Node => !!n)); }

  textOf(node: Node): string { return this.currentText.slice(node.startIndex, node.endIndex); }
  positionAt(offset: number): Position { return this.lines.positionAt(offset); }
  rangeOf(start: number, end: number): Range { return { start: this.positionAt(start), end: this.positionAt(end) }; }

  /** The import of `path` that code in this file can refer to, if any. */
  importOf(path: string): ImportSpec | undefined {
    return this.imports.find((s) => s.path === path && !s.blank);
  }

  /** True when `ident` (a selector operand) names the import of `path` and nothing local shadows it. */
  refersToImport(ident: Node, path: string): boolean {
    const spec = this.importOf(path);
    return !!spec && !spec.dot && ident.text === spec.local && !isLocallyDeclared(ident, spec.local);
  }

  /**
   * Calls of `path`.`name` for any of `names`: `pkg.Name(...)` through the file's import name,
   * or `Name(...)` through a dot import. Shadowed qualifiers do not count. Candidates are found
   * in the text (`Name(`), then checked in the tree: no query pass over the whole file.
   */
  callsTo(path: string, names: readonly string[]): QualifiedCall[] {
    const spec = this.importOf(path);
    if (!spec) return [];
    const out: QualifiedCall[] = [];
    for (const name of names) {
      for (const c of this.callsNamed(name)) {
        if (spec.dot) {
          if (!c.qualifier && !isLocallyDeclared(c.call, name)) out.push(c);
        } else if (c.qualifier && this.refersToImport(c.qualifier, path)) {
          out.push(c);
        }
      }
    }
    return out.sort((a, b) => a.call.startIndex - b.call.startIndex);
  }

  private callsNamed(name: string): QualifiedCall[] {
    this.callIndex ??= new Map();
    const cached = this.callIndex.get(name);
    if (cached) return cached;
    const found: QualifiedCall[] = [];
    const re = new RegExp(`(?<![\\w$])${name}\\s*\\(`, 'g');
    for (const m of this.currentText.matchAll(re)) {
      const id = this.root.descendantForIndex(m.index!, m.index! + name.length);
      if (!id || (id.type !== 'identifier' && id.type !== 'field_identifier') || id.text !== name) continue;
      const sel = id.type === 'field_identifier' ? id.parent : null;
      const fn = sel?.type === 'selector_expression' ? sel : id;
      const call = fn.parent;
      if (call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== fn.id) continue;
      const qualifier = sel ? sel.childForFieldName('operand') ?? undefined : undefined;
      if (sel && qualifier?.type !== 'identifier') continue;
      found.push({ call, name, qualifier });
    }
    this.callIndex.set(name, found);
    return found;
  }

  private pendingReparse = false;

  /** True after edit() until reparse(): the tree is adjusted but not yet reparsed. */
  get stale(): boolean { return this.pendingReparse; }

  /**
   * Records content changes the way an editor sends them (each relative to the text after the
   * previous one) as tree.edit calls. Cheap; call reparse() before analysing.
   */
  edit(changes: readonly TextChange[]): void {
    let text = this.currentText;
    for (const ch of changes) {
      const start = Math.max(0, Math.min(ch.start, text.length));
      const end = Math.max(start, Math.min(ch.end, text.length));
      if (this.skipped) {
        text = text.slice(0, start) + ch.text + text.slice(end);
        continue;
      }
      const removed = text.slice(start, end);
      const startPosition = this.treePoint(text, start);
      const oldEndPosition = this.treePoint(text, end);
      this.currentTree.edit(new Edit({
        startIndex: start,
        oldEndIndex: end,
        newEndIndex: start + ch.text.length,
        startPosition,
        oldEndPosition,
        newEndPosition: advancePoint(startPosition, ch.text),
      }));
      const next = text.slice(0, start) + ch.text + text.slice(end);
      this.lineIndex = this.lineIndex?.withChange(next, start, end, ch.text);
      this.literals.update(text, next, start, end, ch.text);
      // Deleting the \n of a \r\n, or typing after a \r, can leave a lone \r.
      if (/[\r\n]/.test(ch.text) || /[\r\n]/.test(removed) || text.charCodeAt(start - 1) === 13) this.loneCR = undefined;
      this.log.add({ kind: 'edit', start, end, text: ch.text });
      text = next;
    }
    const lines = this.lineIndex;
    this.currentText = text;
    this.invalidate();
    this.lineIndex = lines;
    this.pendingReparse = !this.skipped;
    this.version = ++revisions;
  }

  /** Whether the text has a CR not followed by LF: LSP counts it as a line break, tree-sitter not. */
  private loneCR?: boolean;

  /** The tree-sitter point of an offset of the current text (rows count '\n' only). */
  pointAt(offset: number): { row: number; column: number } {
    this.lineIndex ??= new LineIndex(this.currentText);
    return this.treePoint(this.currentText, offset);
  }

  /** A tree-sitter point (rows count '\n' only), from the line index when the two agree. */
  private treePoint(text: string, offset: number): { row: number; column: number } {
    if (text === this.currentText && this.lineIndex) {
      this.loneCR ??= /\r(?!\n)/.test(text);
      if (!this.loneCR) {
        const p = this.lineIndex.positionAt(offset);
        return { row: p.line, column: p.character };
      }
    }
    return treePointAt(text, offset);
  }

  /**
   * Incremental reparse after edit(); a no-op when nothing changed. Within `budget`, when given:
   * false when the parse ran out of it, and the file stays stale (its tree edited, not reparsed;
   * a later reparse still starts from it).
   */
  reparse(parser: Parser, budget?: ParseBudget): boolean {
    if (!this.pendingReparse) return true;
    if (!budget) {
      this.replace(parser, this.currentText, true);
      return true;
    }
    const tree = parser.parse(this.currentText, this.currentTree, { progressCallback: () => budget.exhausted() });
    if (!tree) {
      // The parser keeps a stopped parse to resume it on its next parse() call, whatever the text: drop it.
      parser.reset();
      return false;
    }
    this.adopt(tree, this.currentText, true);
    return true;
  }

  /**
   * Reparses in slices of `sliceMs` with `parser` (which nothing else may use meanwhile), letting
   * other work run between slices through `pause`. Resolves true once the file is parsed; false
   * when `cancelled` says to stop (checked after each pause). An edit between slices restarts
   * the parse from the edited tree.
   */
  async reparseInSlices(parser: Parser, sliceMs: number, pause: () => Promise<void>, cancelled: () => boolean): Promise<boolean> {
    let revision = this.revision;
    try {
      while (this.pendingReparse) {
        const end = performance.now() + sliceMs;
        const tree = parser.parse(this.currentText, this.currentTree, { progressCallback: () => performance.now() >= end });
        if (tree) {
          this.adopt(tree, this.currentText, true);
          return true;
        }
        // The stopped parse resumes on the next parse() call with the same text; else start again.
        await pause();
        if (cancelled() || this.disposed) return false;
        if (this.revision !== revision) {
          parser.reset();
          revision = this.revision;
        }
      }
      return true;
    } finally {
      parser.reset();
    }
  }

  /** edit() then reparse(). */
  applyChanges(parser: Parser, changes: readonly TextChange[]): void {
    this.edit(changes);
    this.reparse(parser);
  }

  /** Replaces the whole text (reparsing from scratch unless `incremental`). */
  replace(parser: Parser, text: string, incremental = false): void {
    const tree = parser.parse(text, incremental ? this.currentTree : null);
    if (!tree) throw new Error(`parse failed: ${this.path}`);
    this.adopt(tree, text, incremental);
  }

  /** Takes `tree` (parsed from `text`) as the file's tree, freeing the old one. */
  private adopt(tree: Tree, text: string, incremental: boolean): void {
    const old = this.currentTree;
    if (incremental) this.log.add({ kind: 'reparse' });
    else this.log.reset(); // a new text without the edits that led to it
    old.delete();
    const sameText = text === this.currentText;
    this.version = ++revisions;
    const lines = this.lineIndex;
    this.currentTree = tree;
    this.currentText = text;
    this.pendingReparse = false;
    this.invalidate();
    if (sameText) this.lineIndex = lines; // a reparse after edit(): the index is already current
    else {
      this.loneCR = undefined;
      this.literals.clear();
    }
  }

  private invalidate(): void {
    this.topLevelNodes = undefined;
    this.lineIndex = undefined;
    this.cachedPackageName = undefined;
    this.importTable = undefined;
    this.callIndex = undefined;
    this.generated = undefined;
  }

  private disposed = false;

  dispose(): void {
    this.disposed = true;
    this.currentTree.delete();
  }
}
