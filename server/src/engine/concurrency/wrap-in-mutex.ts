// Quick-fix "Wrap in mutex": guard every unguarded access of a variable with one mutex, reusing
// the one that already guards it (or its struct's mutex), else declaring a new one beside it.
// Offers nothing rather than an edit that could deadlock or fail to compile.
import type { Node } from 'web-tree-sitter';
import { isInit } from '../analysis/functions';
import type { SharedLock } from '../analysis/lock-keys';
import { madeHere, type Access, type SharedState, type SharedVar } from '../analysis/shared-state';
import { ensureImport } from '../edits';
import type { FileEdit, Fix } from '../rule';
import type { SourceFile } from '../source-file';
import { packageTypes } from '../types';
import { accessNode } from './describe';
import { within } from '../syntax';

interface Mutex {
  /** The shared lock id (`T.mu`, `pkgvar:mu`, `local:...`) the inserted calls take. */
  key: string;
  rw: boolean;
  /** What the fix title calls it. */
  label: string;
  /** The expression to call Lock on at an access, or null when it cannot be spelled there. */
  spell(a: Access): string | null;
  declare: FileEdit[];
}

/**
 * Statements [start, end) run under the lock, then the `hoists` (`v := x.f`, copies read under the
 * lock before the statement at `end` uses them). A region of hoists alone has start = end.
 */
interface Region { file: SourceFile; start: number; end: number; lock: string; write: boolean; list: number; hoists: string[]; wrapEnd?: number }

const SIMPLE = new Set(['expression_statement', 'assignment_statement', 'inc_statement', 'dec_statement',
  'short_var_declaration', 'send_statement', 'var_declaration']);

class NoFix extends Error {}

function lineStartOf(file: SourceFile, offset: number): number {
  return file.lines.lineStart(file.positionAt(offset).line);
}

function indentOf(file: SourceFile, node: Node): string {
  const ind = file.text.slice(lineStartOf(file, node.startIndex), node.startIndex);
  if (!/^[ \t]*$/.test(ind)) throw new NoFix('statement does not start its line');
  return ind;
}

/**
 * The instance whose mutex guards a field access: the operand of `x.f`, or for a lock of the holder
 * type of `x.a.f` (`Holder.mu`), the root `x`.
 */
function baseOf(a: Access, lock?: SharedLock): string | null {
  if (a.expr.type !== 'selector_expression') return null;
  let operand = a.expr.childForFieldName('operand')!;
  if (lock?.scope === 'struct' && lock.struct !== a.v.structName && lock.struct === a.v.holderType) {
    while (operand.type === 'selector_expression') operand = operand.childForFieldName('operand')!;
  }
  return a.file.textOf(operand);
}

function chooseMutex(state: SharedState, v: SharedVar, accesses: Access[]): Mutex {
  const guards = state.guards(v);
  const reads = accesses.filter((a) => !a.write).length;
  const rw = reads > accesses.length - reads;
  if (guards.size) {
    const counts = new Map<string, number>();
    for (const a of accesses) for (const id of state.sharedLocks(a).keys()) if (guards.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const id = [...counts].sort((x, y) => y[1] - x[1])[0][0];
    return existingMutex(state, guards.get(id)!, accesses.some((a) => state.sharedLocks(a).get(id)?.mode === 'r'));
  }
  if (v.kind === 'field' && v.structName) {
    const fields = packageTypes(state.pkg).structs.get(v.structName)!;
    const mutexes = [...fields].filter(([, f]) => f.type.kind === 'mutex' || f.type.kind === 'rwmutex');
    if (mutexes.length === 1) {
      const [name, f] = mutexes[0];
      return existingMutex(state, { id: `${v.structName}.${name}`, scope: 'struct', struct: v.structName, name }, f.type.kind === 'rwmutex');
    }
    if (mutexes.length > 1) throw new NoFix('several mutexes: racelens cannot tell which one guards it');
    return newFieldMutex(state, v, fields, rw);
  }
  if (v.kind === 'pkgvar') return newPackageMutex(state, v, rw);
  return newLocalMutex(state, v, rw);
}

function existingMutex(state: SharedState, lock: SharedLock, rw: boolean): Mutex {
  const name = lock.name;
  const field = lock.scope === 'struct' ? packageTypes(state.pkg).structs.get(lock.struct!)?.get(name) : undefined;
  if (lock.scope === 'struct' && !field) throw new NoFix('the mutex is promoted or unknown');
  const spell = (a: Access) => {
    if (lock.scope !== 'struct') return name;
    const base = baseOf(a, lock);
    return base === null ? null : field?.embedded ? base : `${base}.${name}`;
  };
  const typeIsRw = field?.type.kind === 'rwmutex';
  return { key: lock.id, rw: rw || typeIsRw, label: lock.scope === 'struct' ? `${lock.struct}.${name}` : name, spell, declare: [] };
}

function freshName(taken: (n: string) => boolean, ...candidates: string[]): string {
  for (const c of candidates) if (!taken(c)) return c;
  for (let i = 2; ; i++) if (!taken(`${candidates[0]}${i}`)) return `${candidates[0]}${i}`;
}

function newFieldMutex(state: SharedState, v: SharedVar, fields: Map<string, unknown>, rw: boolean): Mutex {
  const list = v.decl!.parent!;
  const file = state.pkg.fileOf(list)!;
  const first = list.namedChildren.find((n) => n?.type === 'field_declaration');
  if (!first || file.positionAt(first.startIndex).line === file.positionAt(list.startIndex).line) throw new NoFix('one-line struct');
  const name = freshName((n) => fields.has(n) || !!state.fns.method(v.structName!, n), 'mu', `${v.name}Mu`);
  const sync = ensureImport(file, 'sync');
  const at = lineStartOf(file, first.startIndex);
  const decl = `${indentOf(file, first)}${name} sync.${rw ? 'RWMutex' : 'Mutex'} // guards ${v.name}\n\n`.replace('sync.', `${sync.name}.`);
  return {
    key: `${v.structName}.${name}`, rw, label: name,
    spell: (a) => { const b = baseOf(a); return b === null ? null : `${b}.${name}`; },
    declare: [{ path: file.path, start: at, end: at, newText: decl }, ...(sync.edit ? [{ ...sync.edit, path: file.path }] : [])],
  };
}

function newPackageMutex(state: SharedState, v: SharedVar, rw: boolean): Mutex {
  const decl = v.decl!.parent!.type === 'var_declaration' ? v.decl!.parent! : v.decl!.parent!.parent!;
  const file = state.pkg.fileOf(decl)!;
  const name = freshName((n) => state.pkg.decls.has(n), `${v.name}Mu`);
  const sync = ensureImport(file, 'sync');
  const text = `\nvar ${name} ${sync.name}.${rw ? 'RWMutex' : 'Mutex'} // guards ${v.name}`;
  return {
    key: `pkgvar:${name}`, rw, label: name, spell: () => name,
    declare: [{ path: file.path, start: decl.endIndex, end: decl.endIndex, newText: text }, ...(sync.edit ? [{ ...sync.edit, path: file.path }] : [])],
  };
}

const REFERENCE_KINDS = new Set(['map', 'slice', 'pointer']);

function newLocalMutex(state: SharedState, v: SharedVar, rw: boolean): Mutex {
  const decl = v.decl!;
  if (decl.type !== 'short_var_declaration' && decl.type !== 'var_declaration') throw new NoFix('declared in a header');
  // `m := dst`: the map is shared through another reference, which a lock beside m does not guard.
  if (REFERENCE_KINDS.has(v.type?.kind ?? '') && !madeHere(decl)) throw new NoFix('the value comes from elsewhere');
  const file = state.pkg.fileOf(decl)!;
  const fnText = file.text;
  const name = freshName((n) => new RegExp(`\\b${n}\\b`).test(fnText), `${v.name}Mu`);
  const sync = ensureImport(file, 'sync');
  const eol = file.text.indexOf('\n', decl.endIndex);
  const at = eol === -1 ? file.text.length : eol;
  return {
    key: `local:${file.path}:${decl.startIndex}:${name}`, rw, label: name, spell: () => name,
    declare: [{ path: file.path, start: at, end: at, newText: `\n${indentOf(file, decl)}var ${name} ${sync.name}.${rw ? 'RWMutex' : 'Mutex'}` },
      ...(sync.edit ? [{ ...sync.edit, path: file.path }] : [])],
  };
}

/** The statement (child of a statement list or block) that contains `node`. */
function statementOf(node: Node): Node {
  let cur = node;
  while (cur.parent && cur.parent.type !== 'statement_list' && cur.parent.type !== 'block') cur = cur.parent;
  if (!cur.parent) throw new NoFix('not in a function body');
  return cur;
}

/** Some call in the region takes the mutex (itself or deeper): locking around it would deadlock. */
function callsThatLock(state: SharedState, a: Access, region: Node, key: string): boolean {
  const calls = region.descendantsOfType('call_expression');
  return !!a.unit && calls.some((c) => c && state.calls.edgesOf(c, a.unit!).some((e) => state.locks.acquiresThrough(e).some((x) => x.key.shared?.id === key)));
}

/** The mutex may already be held where the lock would go (on some path, or by every caller). */
function mayBeHeld(state: SharedState, a: Access, at: number, key: string): boolean {
  if (!a.unit) return false;
  const held = state.locks.heldAt(a.unit, at);
  if (held.assumed) return true;
  return [...held.locks.values(), ...state.locks.mayHeldAt(a.unit, at).values()].some((h) => h.key.shared?.id === key)
    || state.locks.mayBeHeldByCallers(a.unit, key);
}

function exitsRegion(region: Node): boolean {
  const exits = region.descendantsOfType(['return_statement', 'goto_statement', 'labeled_statement']);
  return exits.some((e) => {
    for (let n = e?.parent; n && n.id !== region.id; n = n.parent) if (n.type === 'func_literal') return false;
    return true;
  });
}

function shortCircuited(expr: Node, stmt: Node): boolean {
  for (let n = expr; n.parent && n.id !== stmt.id; n = n.parent) {
    const p = n.parent;
    if (p.type === 'func_literal') return true;
    if (p.type === 'binary_expression' && /^(&&|\|\|)$/.test(p.childForFieldName('operator')?.text ?? '') && p.childForFieldName('right')?.id === n.id) return true;
  }
  return false;
}

/** Calls that may block or never return: I/O, waits, sleeps, t.Fatal and friends, os.Exit. */
const BLOCKING_CALL = /(?:^|\.)(?:Fprint\w*|Print\w*|Write\w*|Read\w*|Encode|Decode|Copy\w*|Flush|Sync|Sleep|Wait\w*|Fatal\w*|FailNow|Skip\w*|Exit|Goexit|Panic\w*|Dial\w*|Do|Get|Post\w*|Send\w*|Recv\w*|Accept|Listen\w*|Serve\w*|Close|Lock|RLock)$|^(?:write|read|send|recv|render)[A-Z]\w*$/;

/** Whether running `node` may block while a lock is held: channel operations, select, blocking calls. */
function blocks(node: Node): boolean {
  if (node.descendantsOfType(['send_statement', 'select_statement']).some((n) => n && !inLiteral(n, node))) return true;
  if (node.descendantsOfType('unary_expression').some((n) => n?.childForFieldName('operator')?.text === '<-' && !inLiteral(n, node))) return true;
  return node.descendantsOfType('call_expression').some((c) => !!c && !inLiteral(c, node) && BLOCKING_CALL.test(c.childForFieldName('function')?.text ?? ''));
}

function inLiteral(n: Node, outer: Node): boolean {
  for (let p = n.parent; p && p.id !== outer.id; p = p.parent) if (p.type === 'func_literal') return true;
  return false;
}

/** `for k := range v` over the accessed variable itself, not over something reached through it (`v.C`). */
function rangesOver(loop: Node, target: Node): boolean {
  const clause = loop.namedChildren.find((c) => c?.type === 'range_clause');
  return clause?.childForFieldName('right')?.id === target.id;
}

/** The region itself locks the mutex (`mu.Lock()` inside the loop it would wrap). */
function locksInside(region: Node, spelled: string): boolean {
  return region.descendantsOfType('call_expression').some((c) => /^(?:R?Lock)$/.test(c?.childForFieldName('function')?.childForFieldName('field')?.text ?? '')
    && c?.childForFieldName('function')?.childForFieldName('operand')?.text === spelled);
}

/** The mutex expression is assigned (`p.mu = &sync.Mutex{}`) at or after `from` in the access's function. */
function assignedFrom(a: Access, spelled: string, from: number): boolean {
  const body = a.unit?.body;
  if (!body) return false;
  return body.descendantsOfType(['assignment_statement', 'short_var_declaration']).some((s) => !!s && s.endIndex > from
    && (s.childForFieldName('left')?.namedChildren ?? []).some((l) => l?.text === spelled));
}

export function wrapInMutexFixes(state: SharedState, v: SharedVar): Fix[] {
  try {
    return [buildFix(state, v)];
  } catch (e) {
    if (e instanceof NoFix) return [];
    throw e;
  }
}

function buildFix(state: SharedState, v: SharedVar): Fix {
  // Accesses ordered before or after the concurrency (before the go statement, after Wait) race
  // with nothing: only the sides of a conflict take the lock.
  const racing = v.accesses.length <= 400 ? new Set(state.conflicts(v).flatMap((c) => [c.write, c.other])) : undefined;
  const inFunctions = v.accesses.filter((a) => a.unit && !isInit(a.unit));
  const live = inFunctions.filter((a) => !racing || racing.has(a));
  const mutex = chooseMutex(state, v, inFunctions);
  const edits: FileEdit[] = [...mutex.declare];
  const regions: Region[] = [];
  const tmpNames = new Set<string>();
  const copies: { unit: Access['unit']; text: string; stmt: Node; tmp: string }[] = [];
  // Copying the reference races only with replacing the whole variable.
  const replaced = v.accesses.some((a) => a.write && !a.element);
  for (const a of live) {
    if (a.reference && !replaced) continue;
    const held = state.heldAt(a);
    if (held.assumed || state.sharedLocks(a).has(mutex.key)) continue;
    const spelled = mutex.spell(a);
    if (spelled === null) throw new NoFix('mutex cannot be named here');
    const target = accessNode(a);
    const stmt = statementOf(target);
    const wantRead = mutex.rw && !a.write;
    if (assignedFrom(a, spelled, stmt.startIndex)) throw new NoFix(`${spelled} is assigned after this point: locking it here would use it before it is set`);
    const ranged = stmt.type === 'for_statement' && stmt.namedChildren.some((c) => c?.type === 'range_clause' && within(target, c));
    // The lock is held across the statement: only where it cannot block (I/O, channels, waits,
    // t.Fatal) and a loop ranges over the variable itself (a map or slice: it ends).
    const wrappable = (SIMPLE.has(stmt.type) && !blocks(stmt))
      || (ranged && rangesOver(stmt, target) && !blocks(stmt.childForFieldName('body') ?? stmt) && !exitsRegion(stmt.childForFieldName('body') ?? stmt));
    if (wrappable) {
      if (locksInside(stmt, spelled) || callsThatLock(state, a, stmt, mutex.key) || mayBeHeld(state, a, stmt.startIndex, mutex.key)) throw new NoFix('would deadlock');
      regions.push({ file: a.file, start: stmt.startIndex, end: stmt.endIndex, wrapEnd: stmt.endIndex, lock: spelled, write: !wantRead, list: stmt.parent!.id, hoists: [] });
      continue;
    }
    // Else copy the value into a local under the lock, and do the work after the Unlock. A read
    // inside a statement whose header already copied the same value uses that copy (the value
    // the condition tested), unless the statement writes the variable.
    const text = a.file.textOf(target);
    const earlier = !a.write && copies.find((c) => c.unit === a.unit && c.text === text && within(target, c.stmt)
      && !v.accesses.some((w) => w.write && w.file === a.file && within(w.expr, c.stmt)));
    if (earlier) {
      edits.push({ path: a.file.path, start: target.startIndex, end: target.endIndex, newText: earlier.tmp });
      continue;
    }
    const hoistable = !a.write && (['return_statement', 'if_statement', 'expression_switch_statement'].includes(stmt.type) || SIMPLE.has(stmt.type) || (ranged && !rangesOver(stmt, target)))
      && !(stmt.type === 'if_statement' && !within(target, stmt.childForFieldName('condition') ?? stmt))
      && !(stmt.type === 'expression_switch_statement' && !within(target, stmt.childForFieldName('value') ?? stmt))
      && !shortCircuited(target, stmt);
    if (!hoistable) throw new NoFix(`cannot guard an access in a ${stmt.type}`);
    if (callsThatLock(state, a, target, mutex.key) || mayBeHeld(state, a, stmt.startIndex, mutex.key)) throw new NoFix('would deadlock');
    const unitText = a.file.text.slice(a.unit!.start, a.unit!.end);
    const tmp = freshName((n) => tmpNames.has(`${a.unit!.id}:${n}`) || new RegExp(`\\b${n}\\b`).test(unitText), `${v.name}Val`);
    tmpNames.add(`${a.unit!.id}:${tmp}`);
    indentOf(a.file, stmt);
    regions.push({ file: a.file, start: stmt.startIndex, end: stmt.startIndex, lock: spelled, write: !wantRead, list: stmt.parent!.id, hoists: [`${tmp} := ${text}`] });
    copies.push({ unit: a.unit, text, stmt, tmp });
    edits.push({ path: a.file.path, start: target.startIndex, end: target.endIndex, newText: tmp });
  }
  edits.push(...regionEdits(regions));
  if (edits.length === mutex.declare.length) throw new NoFix('nothing to guard');
  return { title: `Wrap in mutex: guard ${v.name} with ${mutex.label}`, edits, isPreferred: true, safe: true };
}

/** Lock before and unlock after each region; adjacent statements of one block share a pair. */
function regionEdits(regions: Region[]): FileEdit[] {
  const sorted = regions.sort((a, b) => (a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : a.start - b.start || b.end - a.end));
  const merged: Region[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    const sameFile = !!last && last.file === r.file;
    if (sameFile && r.start < last.end) {
      if (r.hoists.length) throw new NoFix('a read to copy inside a statement the lock already wraps');
      last.write ||= r.write;
      last.end = Math.max(last.end, r.end);
      last.wrapEnd = Math.max(last.wrapEnd ?? 0, r.wrapEnd ?? 0);
      continue;
    }
    // Adjacent statements of one block share a Lock/Unlock pair; copies join the section before them.
    const adjacent = sameFile && last.list === r.list && last.lock === r.lock && /^[ \t]*(?:\/\/[^\n]*)?\s*$/.test(r.file.text.slice(last.end, r.start));
    if (adjacent && (r.hoists.length ? r.start === r.end : !last.hoists.length)) {
      last.end = r.end;
      if (r.wrapEnd !== undefined) last.wrapEnd = r.wrapEnd;
      last.write ||= r.write;
      last.hoists.push(...r.hoists);
      continue;
    }
    merged.push({ ...r, hoists: [...r.hoists] });
  }
  const edits: FileEdit[] = [];
  for (const r of merged) {
    const first = r.file.root.descendantForIndex(r.start, r.start)!;
    const stmt = statementOf(first);
    const ind = indentOf(r.file, stmt);
    const [lock, unlock] = r.write ? ['Lock', 'Unlock'] : ['RLock', 'RUnlock'];
    const at = lineStartOf(r.file, r.start);
    const copies = r.hoists.map((h) => `${ind}${h}\n`).join('');
    if (r.wrapEnd === undefined) {
      // Copies only: the section goes on the lines before the statement that uses them.
      edits.push({ path: r.file.path, start: at, end: at, newText: `${ind}${r.lock}.${lock}()\n${copies}${ind}${r.lock}.${unlock}()\n` });
      continue;
    }
    const eol = r.file.text.indexOf('\n', r.wrapEnd);
    const end = eol === -1 ? r.file.text.length : eol;
    edits.push({ path: r.file.path, start: at, end: at, newText: `${ind}${r.lock}.${lock}()\n` });
    edits.push({ path: r.file.path, start: end, end, newText: `\n${copies.replace(/\n$/, '')}${copies ? '\n' : ''}${ind}${r.lock}.${unlock}()` });
  }
  return edits;
}
