// Every use of a struct field in a package, found by name (`x.name` and `T{name: v}`), and what the
// code does with it there. Matching by name alone is conservative for the rules that use it: a
// field of another struct with the same name only adds uses, so the rule says less, never more.
import type { Node } from 'web-tree-sitter';
import { isBuiltin } from '../../engine/goroutines';
import type { Package } from '../../engine/package';
import type { SourceFile } from '../../engine/source-file';
import { escapeRegExp, unparen } from '../../engine/syntax';
import { packageTypes, type Field } from '../../engine/types';

export type FieldUseKind =
  | 'send' | 'recv' | 'range' | 'close' | 'lencap' | 'nilcmp'
  /** Assigned (`x.f = v`, `x.f, y = f()`, `T{f: v}`): `value` is the right-hand side. */
  | 'assigned'
  /** `x.f.m(...)`: `method` names m. */
  | 'method'
  /** `x.f(...)`: the field's function value is called. */
  | 'called'
  | 'returned'
  /** Anything else: copied, passed, its address taken. The value may reach code racelens cannot see. */
  | 'other';

export interface FieldUse {
  file: SourceFile;
  /** The selector `x.f` (or the accessor call `x.m()`); the key of a keyed element. */
  node: Node;
  kind: FieldUseKind;
  /** send: the send statement; recv: the `<-` expression; range: the for statement; method/called/close: the call. */
  site: Node;
  method?: string;
  value?: Node;
  /** For `a, b = f()`: the position of the field among the left-hand sides. */
  index?: number;
}

/** What the code does with the value of `expr` (a field selector or a call returning one). */
export function classifyUse(file: SourceFile, expr: Node): Omit<FieldUse, 'file' | 'node'> {
  let e = expr;
  while (e.parent?.type === 'parenthesized_expression') e = e.parent;
  const p = e.parent;
  if (!p) return { kind: 'other', site: e };
  switch (p.type) {
    case 'send_statement':
      return p.childForFieldName('channel')?.id === e.id ? { kind: 'send', site: p } : { kind: 'other', site: p };
    case 'unary_expression':
      if (p.child(0)?.type === '<-') return { kind: 'recv', site: p };
      return { kind: 'other', site: p };
    case 'range_clause':
      return p.childForFieldName('right')?.id === e.id && p.parent ? { kind: 'range', site: p.parent } : { kind: 'other', site: p };
    case 'argument_list': {
      const call = p.parent;
      const fn = call?.childForFieldName('function') ?? null;
      if (call && p.namedChildren.filter((n) => n && n.type !== 'comment').length === 1) {
        if (isBuiltin(fn, ['close'])) return { kind: 'close', site: call };
        if (isBuiltin(fn, ['len', 'cap'])) return { kind: 'lencap', site: call };
      }
      return { kind: 'other', site: call ?? p };
    }
    case 'binary_expression': {
      const op = p.childForFieldName('operator')?.text;
      const other = p.childForFieldName('left')?.id === e.id ? p.childForFieldName('right') : p.childForFieldName('left');
      if ((op === '==' || op === '!=') && other && unparen(other).type === 'nil') return { kind: 'nilcmp', site: p };
      return { kind: 'other', site: p };
    }
    case 'selector_expression': {
      const call = p.parent;
      if (p.childForFieldName('operand')?.id === e.id && call?.type === 'call_expression' && call.childForFieldName('function')?.id === p.id) {
        return { kind: 'method', site: call, method: p.childForFieldName('field')?.text };
      }
      // x.f.g: a field of the value, not the value itself.
      return p.childForFieldName('operand')?.id === e.id && call?.type !== 'call_expression' ? { kind: 'lencap', site: p } : { kind: 'other', site: p };
    }
    case 'call_expression':
      return p.childForFieldName('function')?.id === e.id ? { kind: 'called', site: p } : { kind: 'other', site: p };
    case 'expression_list': {
      const stmt = p.parent;
      if (stmt?.type === 'return_statement') return { kind: 'returned', site: stmt };
      if ((stmt?.type === 'assignment_statement') && stmt.childForFieldName('left')?.id === p.id) {
        if (stmt.child(1)?.text !== '=') return { kind: 'other', site: stmt }; // x.f += ...
        const lefts = p.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment');
        const index = lefts.findIndex((n) => n.id === e.id);
        const rights = stmt.childForFieldName('right')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
        const value = rights.length === lefts.length ? rights[index] : rights[0];
        return { kind: 'assigned', site: stmt, value, index };
      }
      return { kind: 'other', site: stmt ?? p };
    }
    case 'return_statement':
      return { kind: 'returned', site: p };
    default:
      return { kind: 'other', site: p };
  }
}

type Hits = Map<string, { file: SourceFile; at: number }[]>;

/** Where each name appears as `.name` or as `name:`, read in one pass over each file. */
function nameIndex(pkg: Package): { selectors: Hits; keys: Hits } {
  return pkg.memo('field-uses:index', () => {
    const selectors: Hits = new Map(), keys: Hits = new Map();
    const add = (hits: Hits, name: string, hit: { file: SourceFile; at: number }) => {
      const list = hits.get(name);
      if (list) list.push(hit); else hits.set(name, [hit]);
    };
    for (const file of pkg.files) {
      for (const m of file.text.matchAll(/\.\s*([A-Za-z_][\w$]*)/g)) add(selectors, m[1], { file, at: m.index! + m[0].length - m[1].length });
      for (const m of file.text.matchAll(/(?<![\w$.])([A-Za-z_][\w$]*)\s*:(?!=)/g)) add(keys, m[1], { file, at: m.index! });
    }
    return { selectors, keys };
  });
}

/** Every use of fields named `name` in the package (memoized per package). */
export function fieldUses(pkg: Package, name: string): FieldUse[] {
  const memo = pkg.memo('field-uses', () => new Map<string, FieldUse[]>());
  let uses = memo.get(name);
  if (uses) return uses;
  uses = [];
  const index = nameIndex(pkg);
  for (const { file, at } of index.selectors.get(name) ?? []) {
    const id = file.root.descendantForIndex(at, at + name.length);
    const sel = id?.parent;
    if (id?.type !== 'field_identifier' || sel?.type !== 'selector_expression' || sel.childForFieldName('field')?.id !== id.id) continue;
    uses.push({ file, node: sel, ...classifyUse(file, sel) });
  }
  for (const { file, at } of index.keys.get(name) ?? []) {
    const id = file.root.descendantForIndex(at, at + name.length);
    // T{name: v}: the key is a literal_element holding the name.
    let keyEl: Node | null | undefined = id;
    while (keyEl && keyEl.type !== 'keyed_element' && keyEl.type !== 'literal_element') keyEl = keyEl.parent;
    const keyed = keyEl?.type === 'literal_element' ? keyEl.parent : keyEl;
    if (keyed?.type !== 'keyed_element' || keyed.namedChild(0)?.startIndex !== at) continue;
    const valueEl = keyed.namedChild(1);
    const value = valueEl?.type === 'literal_element' ? valueEl.namedChild(0) ?? valueEl : valueEl;
    if (!value) continue;
    uses.push({ file, node: keyed, kind: 'assigned', site: keyed, value });
  }
  memo.set(name, uses);
  return uses;
}

/** An unexported field: no code outside the package can use it. */
export function isUnexported(name: string): boolean {
  return /^[a-z_]/.test(name);
}

/** The package's struct fields with unexported names, by struct name. */
export function unexportedFields(pkg: Package): { struct: string; name: string; field: Field }[] {
  return pkg.memo('unexported-fields', () => {
    const out: { struct: string; name: string; field: Field }[] = [];
    for (const [struct, fields] of packageTypes(pkg).structs) {
      for (const [name, field] of fields) if (!field.embedded && isUnexported(name)) out.push({ struct, name, field });
    }
    return out;
  });
}

/**
 * Whether the package builds a value of struct `name` with a positional literal (`T{a, b}`),
 * which sets fields without naming them.
 */
export function builtPositionally(pkg: Package, struct: string): boolean {
  const memo = pkg.memo('positional-literals', () => new Map<string, boolean>());
  const known = memo.get(struct);
  if (known !== undefined) return known;
  const re = new RegExp(`(?<![\\w$])${escapeRegExp(struct)}\\s*\\{`, 'g');
  let found = false;
  for (const file of pkg.files) {
    if (found || !file.text.includes(struct)) continue;
    for (const m of file.text.matchAll(re)) {
      const at = m.index!;
      const lit = file.root.descendantForIndex(at, at + struct.length)?.parent;
      if (lit?.type !== 'composite_literal') continue;
      const body = lit.childForFieldName('body');
      if (body?.namedChildren.some((c) => c && c.type !== 'comment' && c.type !== 'keyed_element')) { found = true; break; }
    }
  }
  memo.set(struct, found);
  return found;
}

/** `make(...)` or `nil`: a fresh channel (or none), not one that came from elsewhere. */
export function isFreshOrNil(value: Node | undefined): boolean {
  if (!value) return false;
  const v = unparen(value);
  if (v.type === 'nil') return true;
  return v.type === 'call_expression' && isBuiltin(v.childForFieldName('function'), ['make']);
}
