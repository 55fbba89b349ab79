// Rewrites every access of a package-level variable or field across the package: the shared core
// of "Switch to atomic.Value" and the atomic counter fix. Refuses (NoRewrite) rather than emit an
// edit that might not compile: address taken, tuple assignments, composite-literal fields, ...
import type { Node } from 'web-tree-sitter';
import type { FileEdit } from '../rule';
import type { SourceFile } from '../source-file';
import { editsOverlap } from '../text';
import type { Access, SharedVar } from '../analysis/shared-state';

export class NoRewrite extends Error {}

export interface AccessRewriter {
  /** Replacement text for a read of the variable (the identifier or selector `x.f`). */
  read(expr: string, a: Access): string;
  /** Replacement for the whole statement `v = rhs`. */
  assign(expr: string, rhs: string, a: Access): string;
  /** Replacement for `v++`, `v--`, `v += k`, `v -= k` (op is '+' or '-', k the operand text). */
  update?(expr: string, op: '+' | '-', k: string, a: Access): string;
}

export function versionAtLeast(version: string | undefined, want: string): boolean {
  if (!version) return false;
  const [a, b] = version.split('.').map(Number);
  const [c, d] = want.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/** A field named in a composite literal (`S{hits: 1}`) would not survive a change of its type. */
function keyedInLiteral(v: SharedVar, files: readonly SourceFile[]): boolean {
  const re = new RegExp(`(?<![\\w$.])${v.name}\\s*:(?!=)`, 'g');
  return files.some((f) => [...f.text.matchAll(re)].some((m) => {
    const n = f.root.descendantForIndex(m.index!, m.index! + v.name.length);
    return n?.parent?.type === 'literal_element' && n.parent.parent?.type === 'keyed_element';
  }));
}

/** Edits rewriting every access in `accesses` (all accesses of v, including sequential ones). */
export function rewriteAccesses(v: SharedVar, accesses: readonly Access[], rw: AccessRewriter, packageFiles: readonly SourceFile[]): FileEdit[] {
  if (v.kind === 'field' && keyedInLiteral(v, packageFiles)) throw new NoRewrite('set in a composite literal');
  const edits: FileEdit[] = [];
  for (const a of accesses) {
    if (a.addressTaken) throw new NoRewrite(`the address of ${v.name} is taken`);
    if (a.element) throw new NoRewrite(`${v.name} has element writes`);
    const text = a.file.textOf(a.expr);
    if (!a.write) {
      // A value in a composite literal (`map[string]int{"requests": requests}`) is a plain read; a
      // key may be a struct field's name, which a rewrite would break.
      if (isLiteralKey(a.expr)) throw new NoRewrite('a key in a composite literal');
      edits.push(edit(a.file, a.expr, rw.read(text, a)));
      continue;
    }
    const stmt = writeStatement(a.expr);
    if (!stmt) throw new NoRewrite('not a simple statement');
    if (stmt.type === 'inc_statement' || stmt.type === 'dec_statement') {
      if (!rw.update) throw new NoRewrite('increment');
      edits.push(edit(a.file, stmt, rw.update(text, stmt.type === 'inc_statement' ? '+' : '-', '1', a)));
      continue;
    }
    const op = stmt.childForFieldName('operator')?.text ?? stmt.children.find((c) => c && /=$/.test(c.type))?.type;
    const right = stmt.childForFieldName('right');
    if (!right || right.namedChildCount !== 1 || stmt.childForFieldName('left')!.namedChildCount !== 1) throw new NoRewrite('tuple assignment');
    const rhs = a.file.textOf(right.namedChild(0)!);
    if (op === '=') edits.push(edit(a.file, stmt, rw.assign(text, rhs, a)));
    else if ((op === '+=' || op === '-=') && rw.update) edits.push(edit(a.file, stmt, rw.update(text, op[0] as '+' | '-', rhs, a)));
    else throw new NoRewrite(`${op} assignment`);
  }
  // `v = f(v)`: the read sits inside the rewritten statement; not a plain swap, no rewrite.
  for (const path of new Set(edits.map((e) => e.path))) {
    if (editsOverlap(edits.filter((e) => e.path === path))) throw new NoRewrite(`${v.name} is read where it is written`);
  }
  return edits;
}

function isLiteralKey(expr: Node): boolean {
  const element = expr.parent?.type === 'literal_element' ? expr.parent : expr;
  const keyed = element.parent;
  return keyed?.type === 'keyed_element' && keyed.namedChild(0)?.id === element.id;
}

function writeStatement(expr: Node): Node | undefined {
  const p = expr.parent;
  if (p?.type === 'inc_statement' || p?.type === 'dec_statement') return p;
  if (p?.type === 'expression_list' && p.parent?.type === 'assignment_statement') return p.parent;
  return undefined;
}

function edit(file: SourceFile, node: Node, newText: string): FileEdit {
  return { path: file.path, start: node.startIndex, end: node.endIndex, newText };
}
