import type { Node } from 'web-tree-sitter';
import { CallGraphFact } from '../../engine/analysis/callgraph';
import { FunctionsFact } from '../../engine/analysis/functions';
import { chanMakes, refsOf, selectCaseOf, type ChanMake, type Ref } from '../../engine/goroutines';
import type { Pass, Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { enclosingFunction } from '../../engine/syntax';
import { parameterUses } from './channel-params';

/** A receive that waits for this channel alone: not a case of a select with other cases. */
function waitsAlone(r: Ref): boolean {
  if (r.kind === 'range') return true;
  if (r.kind !== 'recv') return false;
  const clause = selectCaseOf(r.site);
  return !clause || clause.parent!.namedChildren.filter((c) => c && c.type !== 'comment').length === 1;
}

function lineOf(file: SourceFile, node: Node): number {
  return file.positionAt(node.startIndex).line + 1;
}

/**
 * A channel made in a function and handed to package functions that never send on it or close
 * it: the receives of the maker wait forever. Undefined when some use may feed the channel
 * (a send, a close, a store, a call racelens cannot follow), or nothing was handed over.
 */
function partnerlessWaits(pass: Pass, file: SourceFile, mk: ChanMake): { waits: Ref[]; handedTo: string[] } | undefined {
  const fn = enclosingFunction(mk.decl);
  const body = fn?.childForFieldName('body');
  if (!fn || !body) return undefined;
  const waits: Ref[] = [];
  const handedTo: string[] = [];
  for (const r of refsOf(file, body, mk.name, mk.decl)) {
    if (r.kind === 'recv' || r.kind === 'range') {
      if (waitsAlone(r)) waits.push(r);
    } else if (r.kind === 'arg') {
      const uses = parameterUses(pass, r);
      if (!uses || uses.refs.some((u) => u.kind !== 'recv' && u.kind !== 'range' && u.kind !== 'lencap')) return undefined;
      handedTo.push(uses.callee.label);
    } else if (r.kind !== 'lencap') return undefined;
  }
  return waits.length && handedTo.length ? { waits, handedTo } : undefined;
}

export const goroutineLeakRecv: Rule = {
  id: 'goroutine-leak-recv',
  title: 'Receive from a channel nobody sends to or closes',
  doc: 'A function makes a channel, hands it to functions of the package that never send on it or close it, and then waits on it: nothing can ever complete the receive, so the goroutine blocks forever. Send or close in the function that should signal (often a missing defer close(done)).',
  severity: 'warning',
  requires: [FunctionsFact, CallGraphFact],
  run(pass) {
    for (const file of pass.files) {
      if (!file.contains('<-') && !file.contains('range')) continue;
      for (const mk of chanMakes(file, pass.pkg)) {
        const found = partnerlessWaits(pass, file, mk);
        if (!found) continue;
        const names = [...new Set(found.handedTo)].join(', ');
        for (const w of found.waits) {
          pass.report({
            file,
            node: w.kind === 'range' ? w.node : w.site,
            message: `this ${w.kind === 'range' ? 'range over' : 'receive from'} ${mk.name.text} waits forever: ${mk.name.text} is made at line ${lineOf(file, mk.decl)} and handed only to ${names}, which never ${found.handedTo.length > 1 ? 'send' : 'sends'} on it or ${found.handedTo.length > 1 ? 'close' : 'closes'} it, and nothing else does`,
            related: [{ path: file.path, start: mk.decl.startIndex, end: mk.decl.endIndex, message: `${mk.name.text} is made here` }],
          });
        }
      }
    }
  },
};
