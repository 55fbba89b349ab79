import type { Node } from 'web-tree-sitter';
import type { Package } from '../../engine/package';
import type { Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfExpr } from '../../engine/types';
import { cachedType } from '../../engine/tree-cache';
import { enclosingFunction, unparen } from '../../engine/syntax';

const RECOVER = /(?<![\w$.])recover\s*\(\s*\)/g;
const HAS_RECOVER = /(?<![\w$.])recover\s*\(\s*\)/;
/** A handler that panics again or exits after recovering protects nothing from crashing. */
const REPANIC = /(?<![\w$.])panic\s*\(|\bos\.Exit\s*\(|\blog\.(?:Fatal|Panic)\w*\s*\(/;
const DEFER = /(?<![\w$.])defer(?![\w$])/g;
const GO_KEYWORD = /(?<![\w$.])go(?=\s+[\w(])/g;

/** Statements found by a keyword in `node`'s text and confirmed in the tree, in source order. */
function statementsByKeyword(file: SourceFile, node: Node, re: RegExp, type: string, len: number): Node[] {
  const out: Node[] = [];
  const text = file.text.slice(node.startIndex, node.endIndex);
  for (const m of text.matchAll(re)) {
    const at = node.startIndex + m.index!;
    const stmt = file.root.descendantForIndex(at, at + len)?.parent;
    if (stmt?.type === type && stmt.startIndex === at) out.push(stmt);
  }
  return out;
}

/** The package's view of which functions recover and which defer a recover. */
class Recovery {
  /** Functions (nodes by id) whose own body calls recover(): deferring them recovers. */
  private readonly recoverers = new Set<number>();
  /** Functions (decls and literals, by id) that defer a recovering call: protected frames. */
  readonly protectedFns = new Map<number, Node>();
  /** Where each protected function defers its recover. */
  readonly deferOf = new Map<number, Node>();
  private methodIndex?: Map<string, Node[]>;
  /** Names of the package functions and methods that recover: a cheap filter for `defer f()`. */
  private readonly recovererNames = new Set<string>();

  constructor(private readonly pkg: Package) {
    // A package-level `func recover()` (rare) is checked in the text before building the decl index.
    const shadowed = pkg.files.some((f) => /(?<![\w$.])(?:func|var|const)\s+recover(?![\w$])/.test(f.text)) && pkg.decls.has('recover');
    for (const file of pkg.files) {
      if (shadowed || !file.contains('recover')) continue;
      for (const m of file.text.matchAll(RECOVER)) {
        const id = file.root.descendantForIndex(m.index!, m.index! + 7);
        const call = id?.parent;
        if (id?.type !== 'identifier' || call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== id.id) continue;
        if (findLocalDeclaration(id, 'recover')) continue;
        const fn = enclosingFunction(call);
        // Recover-and-repanic (log then crash, exit, or panics used as exceptions) protects nothing.
        if (!fn || REPANIC.test(file.text.slice(fn.startIndex, fn.endIndex))) continue;
        this.recoverers.add(fn.id);
        const name = fn.type === 'func_literal' ? undefined : fn.childForFieldName('name')?.text;
        if (name) this.recovererNames.add(name);
      }
    }
    if (!this.recoverers.size) return;
    for (const file of pkg.files) {
      if (!file.contains('defer')) continue;
      for (const d of statementsByKeyword(file, file.root, DEFER, 'defer_statement', 5)) {
        const call = d.namedChild(0);
        const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
        if (!fn || !this.deferredRecovers(unparen(fn), file)) continue;
        const owner = enclosingFunction(d);
        if (owner && !this.protectedFns.has(owner.id)) {
          this.protectedFns.set(owner.id, owner);
          this.deferOf.set(owner.id, d);
        }
      }
    }
  }

  /** Methods of the package by name, built on first use. */
  private methods(name: string): Node[] | undefined {
    if (!this.methodIndex) {
      this.methodIndex = new Map();
      for (const file of this.pkg.files) {
        if (!file.contains('func (')) continue;
        for (const decl of file.root.namedChildren) {
          if (decl?.type !== 'method_declaration') continue;
          const n = decl.childForFieldName('name')?.text;
          if (n) this.methodIndex.set(n, [...(this.methodIndex.get(n) ?? []), decl]);
        }
      }
    }
    return this.methodIndex.get(name);
  }

  /** `defer func() { recover() }()`, `defer handlePanic()`, `defer s.recoverPanic()`. */
  private deferredRecovers(fn: Node, file: SourceFile): boolean {
    if (fn.type === 'func_literal') return this.recoverers.has(fn.id);
    const name = fn.type === 'identifier' ? fn.text : fn.type === 'selector_expression' ? fn.childForFieldName('field')?.text : undefined;
    if (!name || !this.recovererNames.has(name)) return false;
    const targets = this.resolve(fn, file);
    return !!targets?.length && targets.every((t) => this.recoverers.has(t.id));
  }

  /** The package functions a callee expression may name; undefined when it names something else. */
  resolve(fn: Node, file: SourceFile): Node[] | undefined {
    fn = unparen(fn);
    if (fn.type === 'identifier') {
      if (findLocalDeclaration(fn, fn.text)) return undefined;
      const decls = this.pkg.decls.get(fn.text)?.filter((d) => cachedType(d) === 'function_declaration');
      return decls?.length ? decls : undefined;
    }
    if (fn.type === 'selector_expression') {
      const name = fn.childForFieldName('field')?.text;
      const operand = fn.childForFieldName('operand');
      const candidates = name ? this.methods(name) : undefined;
      if (!candidates || !operand) return undefined;
      const type = this.receiverTypeName(operand, file);
      if (!type) return undefined;
      const own = candidates.filter((m) => receiverTypeOf(m) === type);
      return own.length ? own : undefined;
    }
    return undefined;
  }

  private receiverTypeName(operand: Node, file: SourceFile): string | undefined {
    if (operand.type === 'identifier') {
      const decl = findLocalDeclaration(operand, operand.text);
      if (decl?.type === 'method_declaration') {
        const recv = decl.childForFieldName('receiver')?.namedChildren.find((p) => p?.type === 'parameter_declaration');
        if (recv?.childrenForFieldName('name').some((n) => n?.text === operand.text)) return receiverTypeOf(decl);
      }
    }
    const t = typeOfExpr(operand, file, this.pkg);
    return (t?.kind === 'pointer' ? t.elem?.name : t?.name) ?? undefined;
  }

  /**
   * The body of a goroutine is protected when its frame defers a recover, or when it hands its work
   * to a package function that does (`go func() { safeRun(job) }()`).
   */
  goroutineProtected(goStmt: Node, file: SourceFile): boolean | undefined {
    const call = goStmt.namedChild(0);
    const fn = call?.type === 'call_expression' ? unparen(call.childForFieldName('function')!) : null;
    if (!fn) return undefined;
    if (fn.type === 'func_literal') {
      if (this.protectedFns.has(fn.id)) return true;
      const body = fn.childForFieldName('body');
      if (!body) return true;
      for (const inner of body.descendantsOfType('call_expression')) {
        const f = inner?.childForFieldName('function');
        if (!inner || !f || f.type === 'func_literal') continue;
        const targets = this.resolve(f, file);
        if (targets?.some((t) => this.protectedFns.has(t.id))) return true;
      }
      return false;
    }
    const targets = this.resolve(fn, file);
    if (!targets) return undefined; // another package's function, a func value: not ours to judge
    return targets.some((t) => this.protectedFns.has(t.id));
  }
}

function receiverTypeOf(method: Node): string | undefined {
  const recv = method.childForFieldName('receiver')?.namedChildren.find((p) => p?.type === 'parameter_declaration');
  const t = recv?.childForFieldName('type')?.text;
  return t?.replace(/^\*/, '').replace(/\[.*$/, '').trim();
}

function describe(fn: Node, file: SourceFile): string {
  const name = fn.childForFieldName('name')?.text;
  if (fn.type === 'method_declaration') return `${receiverTypeOf(fn)}.${name}`;
  if (fn.type === 'function_declaration') return name ?? 'this function';
  return `the function literal at line ${file.positionAt(fn.startIndex).line + 1}`;
}

export const recoverMissesGoroutine: Rule = {
  id: 'recover-misses-goroutine',
  title: 'Deferred recover does not cover goroutines',
  doc: 'A function defers recover() and starts goroutines with no recover of their own: recover only catches panics of its own goroutine, so a panic in them still crashes the process. Defer a recover inside each goroutine.',
  severity: 'info',
  scope: 'package',
  run(pass) {
    if (!pass.pkg.files.some((f) => HAS_RECOVER.test(f.text))) return;
    const recovery = new Recovery(pass.pkg);
    for (const [, fn] of recovery.protectedFns) {
      const file = pass.pkg.fileOf(fn);
      const body = fn.childForFieldName('body');
      // Tests recover to assert that something panics, and a panicking test goroutine should crash.
      if (!file || !body || file.isTest) continue;
      const deferStmt = recovery.deferOf.get(fn.id)!;
      for (const goStmt of statementsByKeyword(file, body, GO_KEYWORD, 'go_statement', 2)) {
        if (enclosingFunction(goStmt)?.id !== fn.id) continue;
        if (recovery.goroutineProtected(goStmt, file) !== false) continue;
        pass.report({
          file,
          node: goStmt,
          message: `this goroutine has no deferred recover: the recover deferred in ${describe(fn, file)} only catches panics of its own goroutine, so a panic here still crashes the process`,
          related: [{ path: file.path, start: deferStmt.startIndex, end: deferStmt.endIndex, message: 'the deferred recover that does not cover the goroutine' }],
        });
      }
    }
  },
};
