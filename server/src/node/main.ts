// The language server in Node (the desktop extension): start with --stdio or --node-ipc. Started
// again as a worker thread, the same bundle analyses closed directories for the workspace scan.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import type { Rule } from '../engine/rule';
import { startServer } from '../lsp/server';
import { allRules } from '../rules';
import { isCheckWorker, serveChecks } from './check-pool';
import { nodeHost } from './host';

/**
 * Test hook: RACELENS_FAULT=throw-rule adds a rule that always throws, to prove one broken rule
 * costs only its own findings and the server stays up.
 */
const faultyRule: Rule = { id: 'fault-injection', title: 'fault', doc: 'fault', severity: 'error', run() { throw new Error('injected fault'); } };

if (isCheckWorker()) {
  void serveChecks();
} else {
  const rules = process.env.RACELENS_FAULT === 'throw-rule' ? [...allRules, faultyRule] : allRules;
  startServer(createConnection(ProposedFeatures.all), nodeHost(__filename), rules);
}
