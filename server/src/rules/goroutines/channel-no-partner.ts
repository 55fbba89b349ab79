import type { Node } from 'web-tree-sitter';
import { chanMakes, codeText, refsOf, selectCaseOf, selectCaseOfSend, type Ref } from '../../engine/goroutines';
import { CallGraphFact } from '../../engine/analysis/callgraph';
import { FunctionsFact } from '../../engine/analysis/functions';
import type { Package } from '../../engine/package';
import type { Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { argumentsOf, enclosingFunction, escapeRegExp, unparen } from '../../engine/syntax';
import { packageTypes } from '../../engine/types';
import {
  builtPositionally, classifyUse, fieldUses, isFreshOrNil, isUnexported, unexportedFields, type FieldUse,
} from './field-uses';

/** One blocking operation on a channel field: the op and where it reads the field. */
interface Op { kind: 'recv' | 'send'; site: Node; file: SourceFile; use: FieldUse; field: string; struct: string }

/** What the package does with one channel field, its accessors' results included. */
interface ChannelField {
  struct: string;
  name: string;
  /** Something can send on it or close it, or the channel may reach code we cannot see. */
  released: boolean;
  /** Something can receive from it, or the channel may reach code we cannot see. */
  drained: boolean;
  ops: Op[];
  made?: FieldUse;
}

/**
 * A method that only returns the field: `func (s *T) stopC() <-chan X { return s.stop }`, with
 * an optional `if s == nil { return nil }` first. Its callers get the channel itself.
 */
function accessorsOf(pkg: Package, struct: string, field: string): { name: string; recvOnly: boolean }[] {
  const out: { name: string; recvOnly: boolean }[] = [];
  for (const m of packageTypes(pkg).methods.get(struct)?.values() ?? []) {
    const body = m.node.childForFieldName('body');
    const result = m.node.childForFieldName('result');
    if (!body || !result || result.type === 'parameter_list') continue;
    const recv = m.node.childForFieldName('receiver')?.namedChildren.find((p) => p?.type === 'parameter_declaration')?.childForFieldName('name')?.text;
    if (!recv) continue;
    const returns = body.descendantsOfType('return_statement').filter((r): r is Node => !!r);
    if (!returns.length || body.descendantsOfType('func_literal').length) continue;
    const values = returns.map((r) => r.namedChildren.find((c) => c?.type === 'expression_list')?.namedChildren ?? []);
    const ofField = (v: Node | null) => !!v && v.type === 'selector_expression' && v.childForFieldName('operand')?.text === recv && v.childForFieldName('field')?.text === field;
    if (!values.every((vs) => vs.length === 1 && (ofField(vs[0]) || vs[0]?.type === 'nil')) || !values.some((vs) => ofField(vs[0]))) continue;
    out.push({ name: m.name, recvOnly: /^<-\s*chan\b/.test(result.text) });
  }
  return out;
}

/** Uses of the calls `x.name()` of a package method, classified like uses of the channel they return. */
function accessorUses(pkg: Package, name: string): FieldUse[] {
  const out: FieldUse[] = [];
  const re = new RegExp(`\\.\\s*${escapeRegExp(name)}\\s*\\(\\s*\\)`, 'g');
  for (const file of pkg.files) {
    if (!file.text.includes(name)) continue;
    for (const m of file.text.matchAll(re)) {
      const at = m.index! + m[0].indexOf(name);
      const sel = file.root.descendantForIndex(at, at + name.length)?.parent;
      const call = sel?.parent;
      if (sel?.type !== 'selector_expression' || call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== sel.id) continue;
      out.push({ file, node: call, ...classifyUse(file, call) });
    }
  }
  return out;
}

function channelFields(pkg: Package): ChannelField[] {
  return pkg.memo('channel-no-partner:fields', () => {
    const out: ChannelField[] = [];
    for (const { struct, name, field } of unexportedFields(pkg)) {
      if (field.type.kind !== 'chan' || builtPositionally(pkg, struct)) continue;
      const ch: ChannelField = { struct, name, released: false, drained: false, ops: [] };
      const uses = fieldUses(pkg, name);
      const accessors = accessorsOf(pkg, struct, name);
      const all: { use: FieldUse; recvOnly: boolean; viaAccessor: boolean }[] = uses.map((use) => ({ use, recvOnly: false, viaAccessor: false }));
      for (const a of accessors) {
        // Other packages may call an exported accessor: they can receive, and send or close too unless it is receive-only.
        if (!isUnexported(a.name)) { ch.drained = true; ch.released ||= !a.recvOnly; }
        for (const use of accessorUses(pkg, a.name)) all.push({ use, recvOnly: a.recvOnly, viaAccessor: true });
      }
      for (const { use, recvOnly, viaAccessor } of all) {
        switch (use.kind) {
          case 'send': ch.released = true; ch.ops.push({ kind: 'send', site: use.site, file: use.file, use, field: name, struct }); break;
          case 'recv': ch.drained = true; ch.ops.push({ kind: 'recv', site: use.site, file: use.file, use, field: name, struct }); break;
          case 'range': ch.drained = true; ch.ops.push({ kind: 'recv', site: use.site, file: use.file, use, field: name, struct }); break;
          case 'close': ch.released = true; break;
          case 'lencap': case 'nilcmp': break;
          case 'assigned':
            if (isFreshOrNil(use.value)) { ch.made ??= use; break; }
            ch.released = ch.drained = true;
            break;
          case 'returned':
            // The accessor's own `return s.f` is accounted for by its callers' uses.
            if (!viaAccessor && accessors.some((a) => enclosingFunction(use.site)?.childForFieldName('name')?.text === a.name)) break;
            ch.released = ch.drained = true;
            break;
          default:
            // A receive-only value cannot be sent on or closed; it may still be received from.
            if (recvOnly) ch.drained = true;
            else ch.released = ch.drained = true;
        }
      }
      out.push(ch);
    }
    return out;
  });
}

/** The select statement whose case `op` is, and whether every case of it blocks on a channel with no partner. */
function blocksForever(op: Op, stuck: Set<number>): boolean {
  const kase = op.kind === 'recv' ? selectCaseOf(op.site) : selectCaseOfSend(op.site);
  if (!kase) return true;
  const select = kase.parent;
  if (select?.type !== 'select_statement') return false;
  for (const c of select.namedChildren) {
    if (!c || c.type === 'comment') continue;
    if (c.type !== 'communication_case') return false; // default
    const comm = c.childForFieldName('communication');
    const node = comm?.type === 'receive_statement' ? comm.childForFieldName('right') : comm;
    if (!node || !stuck.has(unparen(node).id)) return false;
  }
  return true;
}

/** The receive sites of a local channel, if nothing in reach ever sends on it or closes it. */
function unreleasedLocal(refs: Ref[], pkg: Package, resolve: (call: Node) => Node[], depth: number): Ref[] | null {
  const recvs: Ref[] = [];
  for (const r of refs) {
    switch (r.kind) {
      case 'recv': case 'range': recvs.push(r); break;
      case 'lencap': break;
      case 'arg': {
        // Handed to package functions: each must leave the parameter alone or only receive from it.
        if (depth >= 2 || r.index === undefined) return null;
        const callees = resolve(r.site);
        if (!callees.length) return null;
        for (const fn of callees) {
          const names = fn.childForFieldName('parameters')?.namedChildren.filter((p): p is Node => p?.type === 'parameter_declaration') ?? [];
          const params: (Node | null)[] = [];
          for (const p of names) { const ns = p.childrenForFieldName('name'); if (!ns.length) params.push(null); else params.push(...ns); }
          if (params.length !== argumentsOf(r.site).length) return null;
          const param = params[r.index];
          const body = fn.childForFieldName('body');
          const calleeFile = pkg.fileOf(fn);
          if (!param || param.text === '_' || !body || !calleeFile) continue;
          if (unreleasedLocal(refsOf(calleeFile, body, param, fn), pkg, resolve, depth + 1) === null) return null;
        }
        break;
      }
      default: return null;
    }
  }
  return recvs;
}


/** Statements that leave a loop, the goroutine or the process. */
const LEAVES = /(?<![\w$.])(?:return|goto|break\s+[A-Za-z_]\w*|continue\s+[A-Za-z_]\w*|panic\s*\()|\.\s*(?:Fatal\w*|FailNow|Skip\w*|Exit|Goexit)\s*\(/;

/** `if !t.Stop() { <-t.C }`: the drain receive and the timer's text. */
const STOP_DRAIN = /if\s*!\s*([\w$.]+?)\s*\.\s*Stop\s*\(\s*\)\s*\{/g;

/**
 * A timer drained after a failed Stop, in a loop where a select case also receives the timer's
 * value without re-arming it: once that case took the value, Stop fails and the drain waits for a
 * value the timer will never send.
 */
function staleTimerDrains(file: SourceFile): { drain: Node; consumer: Node; timer: string }[] {
  const out: { drain: Node; consumer: Node; timer: string }[] = [];
  if (!file.text.includes('.Stop()')) return out;
  for (const m of file.text.matchAll(STOP_DRAIN)) {
    const timer = m[1];
    const ifStmt = file.root.descendantForIndex(m.index!, m.index! + 2)?.parent;
    const then = ifStmt?.type === 'if_statement' ? ifStmt.childForFieldName('consequence') : null;
    const first = then?.namedChildren.find((c) => c?.type === 'statement_list')?.namedChildren.find((c) => !!c && c.type !== 'comment');
    const recv = first?.type === 'expression_statement' ? first.namedChild(0) : null;
    if (!ifStmt || recv?.type !== 'unary_expression' || recv.child(0)?.type !== '<-' || file.textOf(recv.childForFieldName('operand')!).replace(/\s+/g, '') !== `${timer}.C`) continue;
    const fn = enclosingFunction(ifStmt);
    let loop: Node | null = ifStmt.parent;
    while (loop && loop.id !== fn?.id && loop.type !== 'for_statement') loop = loop.parent;
    if (!loop || loop.type !== 'for_statement') continue;
    for (const kase of loop.descendantsOfType('communication_case')) {
      const comm = kase?.childForFieldName('communication');
      const right = comm?.type === 'receive_statement' ? comm.childForFieldName('right') : null;
      if (!kase || !right || right.type !== 'unary_expression' || enclosingFunction(kase)?.id !== fn?.id) continue;
      if (file.textOf(right.childForFieldName('operand')!).replace(/\s+/g, '') !== `${timer}.C`) continue;
      if (new RegExp(`${escapeRegExp(timer)}\\s*\\.\\s*Reset\\s*\\(`).test(file.textOf(kase))) continue;
      // A case that leaves the loop (return, t.Fatal, panic, break L) never comes back to the drain.
      if (LEAVES.test(codeText(file, kase))) continue;
      out.push({ drain: recv, consumer: right, timer });
      break;
    }
  }
  return out;
}

export const channelNoPartner: Rule = {
  id: 'channel-no-partner',
  title: 'Channel operation with no partner',
  doc: 'A receive from a channel that nothing in the package ever sends on or closes, or a send on a channel that nothing ever receives from: the goroutine blocks forever. Send, close or drain the channel where the other side should.',
  severity: 'warning',
  scope: 'package',
  requires: [FunctionsFact, CallGraphFact],
  run(pass) {
    const reporting = new Set(pass.files);
    // Channel fields: every use in the package is known, since the field is unexported.
    const fields = channelFields(pass.pkg);
    const stuck = new Set<number>();
    const stuckOps: { op: Op; ch: ChannelField }[] = [];
    for (const ch of fields) {
      for (const op of ch.ops) {
        if (op.kind === 'recv' ? ch.released : ch.drained) continue;
        stuck.add(op.site.id);
        stuckOps.push({ op, ch });
      }
    }
    for (const { op, ch } of stuckOps) {
      if (!reporting.has(op.file) || !blocksForever(op, stuck)) continue;
      const text = op.file.textOf(op.use.node);
      const where = ch.made ? [{ path: ch.made.file.path, start: ch.made.site.startIndex, end: ch.made.site.endIndex, message: `${ch.struct}.${ch.name} is made here` }] : [];
      const message = op.kind === 'recv'
        ? `receives from ${text} (${ch.struct}.${ch.name}), which nothing in the package ever sends on or closes: this goroutine blocks here forever; close the channel (or send on it) where the work it waits for ends`
        : `sends on ${text} (${ch.struct}.${ch.name}), which nothing in the package ever receives from: this goroutine blocks here forever once the buffer, if any, is full; receive from the channel where its values are meant to go, or drop it`;
      pass.report({ file: op.file, node: op.kind === 'recv' && op.site.type === 'for_statement' ? op.use.node : op.site, message, related: where });
    }

    // Timers drained after a failed Stop, whose value a select case already took.
    for (const file of pass.files) {
      for (const t of staleTimerDrains(file)) {
        pass.report({
          file,
          node: t.drain,
          message: `this drain of ${t.timer}.C waits for a value that may already be gone: the select case on ${t.timer}.C takes the value without re-arming ${t.timer}, after which ${t.timer}.Stop() returns false and nothing ever sends again, so this goroutine blocks here forever; drain with select { case <-${t.timer}.C: default: }`,
          related: [{ path: file.path, start: t.consumer.startIndex, end: t.consumer.endIndex, message: `${t.timer}.C is received here without a Reset` }],
        });
      }
    }

    // Local channels: received from, while neither the function nor the callees it hands the channel to send or close.
    const graph = pass.get(CallGraphFact);
    for (const file of pass.files) {
      if (!file.text.includes('make(chan')) continue;
      const resolve = (call: Node): Node[] => {
        const fn = call.childForFieldName('function');
        if (!fn) return [];
        if (fn.type === 'func_literal') return [fn];
        return graph.resolve(fn, file).map((u) => u.node);
      };
      for (const mk of chanMakes(file, pass.pkg)) {
        const scope = enclosingFunction(mk.decl);
        const body = scope?.childForFieldName('body');
        if (!scope || !body) continue;
        const refs = refsOf(file, body, mk.name, mk.decl);
        const recvs = unreleasedLocal(refs, pass.pkg, resolve, 0);
        // Never handed to anyone: `<-block` in a process meant to hang is deliberate, like `select {}`.
        const passedTo = refs.find((r) => r.kind === 'arg');
        if (!recvs?.length || !passedTo) continue;
        for (const r of recvs) {
          if (r.kind === 'recv' && selectCaseOf(r.site)) continue; // a select may take another case
          pass.report({
            file,
            node: r.site.type === 'for_statement' ? r.node : r.site,
            message: `${r.kind === 'range' ? 'ranges over' : 'receives from'} ${mk.name.text}, which nothing ever sends on or closes (${file.textOf(passedTo.site.childForFieldName('function') ?? passedTo.site)} is given it but never sends on it): this goroutine blocks here forever; send on or close ${mk.name.text} where the work it waits for ends`,
            related: [
              { path: file.path, start: mk.call.startIndex, end: mk.call.endIndex, message: `${mk.name.text} is made here` },
              { path: file.path, start: passedTo.site.startIndex, end: passedTo.site.endIndex, message: `${mk.name.text} is handed over here` },
            ],
          });
        }
      }
    }
  },
};
