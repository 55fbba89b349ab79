// Channels kept in struct fields whose every use the package shows: sends, receives and the
// `make`s that create them. A field that leaves through any other use (returned, passed, copied
// to a variable, closed, set to nil) may have partners racelens cannot see, and is left out.
import type { Node } from 'web-tree-sitter';
import { intConstant } from '../../engine/constant';
import { isBuiltin } from '../../engine/goroutines';
import type { Package } from '../../engine/package';
import type { SourceFile } from '../../engine/source-file';
import { packageTypes } from '../../engine/types';
import { fieldUses } from './field-uses';

export interface FieldUse { file: SourceFile; node: Node }

export interface FieldChannel {
  /** The field's name (unexported); the only field of that name among the package's structs. */
  name: string;
  /** The struct that declares it. */
  owner: string;
  /** Send statements on the field. */
  sends: FieldUse[];
  /** `<-x.f` expressions (inside select cases or not) and `for range x.f` statements. */
  recvs: FieldUse[];
  /** Every `make` assigned to the field makes an unbuffered channel. */
  unbuffered: boolean;
}

/** The channel fields of the package whose uses are all visible, memoized per package. */
export function fieldChannels(pkg: Package): FieldChannel[] {
  return pkg.memo('fieldChannels', () => collect(pkg));
}

function collect(pkg: Package): FieldChannel[] {
  // Field names declared once in the package, with a channel type.
  const owners = new Map<string, string[]>();
  const chanOwner = new Map<string, string>();
  for (const [struct, fields] of packageTypes(pkg).structs) {
    for (const [name, f] of fields) {
      owners.set(name, [...(owners.get(name) ?? []), struct]);
      // Unexported only: another package may use an exported field.
      if (f.type.kind === 'chan' && !f.embedded && !/^[A-Z]/.test(name)) chanOwner.set(name, struct);
    }
  }
  const out: FieldChannel[] = [];
  for (const [name, owner] of chanOwner) {
    if (owners.get(name)!.length !== 1) continue;
    const ch = usesOf(pkg, name, owner);
    if (ch) out.push(ch);
  }
  return out;
}

/** The uses of field `name`, or undefined when one of them lets the channel escape. */
function usesOf(pkg: Package, name: string, owner: string): FieldChannel | undefined {
  const ch: FieldChannel = { name, owner, sends: [], recvs: [], unbuffered: true };
  let makes = 0;
  for (const use of fieldUses(pkg, name)) {
    const { file, node } = use;
    let made: boolean | undefined;
    if (node.type === 'keyed_element') {
      // `T{f: make(chan X)}`: a composite literal's key.
      made = use.value ? unbufferedMake(use.value, pkg) : undefined;
    } else {
      const sel = node;
      const p = sel.parent;
      if (!p) return undefined;
      if (p.type === 'send_statement' && p.childForFieldName('channel')?.id === sel.id) { ch.sends.push({ file, node: p }); continue; }
      if (p.type === 'unary_expression' && p.child(0)?.type === '<-') { ch.recvs.push({ file, node: p }); continue; }
      if (p.type === 'range_clause' && p.childForFieldName('right')?.id === sel.id && p.parent) { ch.recvs.push({ file, node: p.parent }); continue; }
      if (p.type === 'argument_list' && isBuiltin(p.parent?.childForFieldName('function') ?? null, ['len', 'cap'])) continue;
      if (p.type !== 'expression_list' || p.parent?.type !== 'assignment_statement' || p.parent.childForFieldName('left')?.id !== p.id) return undefined;
      made = madeAt(p.parent, sel, pkg);
    }
    if (made === undefined) return undefined;
    makes++;
    if (!made) ch.unbuffered = false;
  }
  return makes > 0 ? ch : undefined;
}

/** `x.f = make(chan T)`: whether the value assigned to `sel` is an unbuffered make; undefined when it is not a make. */
function madeAt(assign: Node, sel: Node, pkg: Package): boolean | undefined {
  const left = assign.childForFieldName('left')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
  const right = assign.childForFieldName('right')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
  const i = left.findIndex((n) => n.id === sel.id);
  return i >= 0 && left.length === right.length ? unbufferedMake(right[i], pkg) : undefined;
}

/** `make(chan T)` → true, `make(chan T, n)` → false (unless n is a constant 0), anything else → undefined. */
function unbufferedMake(value: Node, pkg: Package): boolean | undefined {
  if (value.type !== 'call_expression' || !isBuiltin(value.childForFieldName('function'), ['make'])) return undefined;
  const args = value.childForFieldName('arguments')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
  if (args[0]?.type !== 'channel_type') return undefined;
  return !args[1] || intConstant(args[1], pkg) === 0;
}
