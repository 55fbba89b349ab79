// racelens through the VS Code extension API, on a copy of test/e2e/workspace/ opened as the
// workspace folder. Plain JS, mocha BDD; loaded by ./index.js inside the extension host.
'use strict';
const assert = require('assert');
const vscode = require('vscode');

const folder = () => {
  const f = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  assert.ok(f, 'the tests need test/e2e/workspace (a copy) open as the workspace folder');
  return f.uri;
};
const codeOf = (d) => (d.code && typeof d.code === 'object' ? d.code.value : d.code);
const racelens = (uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'racelens');
const has = (uri, rule) => racelens(uri).some((d) => codeOf(d) === rule);
const SEVERITY = { [vscode.DiagnosticSeverity.Error]: 'error', [vscode.DiagnosticSeverity.Warning]: 'warning', [vscode.DiagnosticSeverity.Information]: 'info' };
const summary = (uri) => racelens(uri).map((d) => `${d.range.start.line + 1}:${codeOf(d)}:${SEVERITY[d.severity]}`).sort();

/** 1-based line of the unique line containing `needle`. */
function lineOf(text, needle) {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `"${needle}" not in the document`);
  return i + 1;
}

async function until(what, probe, timeout = 20000) {
  const deadline = Date.now() + timeout;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('racelens through the extension API', function () {
  let server;
  let jobs;
  let doc;

  before(async function () {
    server = vscode.Uri.joinPath(folder(), 'server.go');
    jobs = vscode.Uri.joinPath(folder(), 'jobs.go');
    doc = await vscode.workspace.openTextDocument(server);
    await vscode.window.showTextDocument(doc);
    const ext = vscode.extensions.getExtension('racelens.racelens');
    assert.ok(ext, 'racelens.racelens is not loaded');
    await ext.activate();
  });

  after(async function () {
    // Leave the folder as it was found, for a reused workspace.
    await vscode.workspace.getConfiguration('racelens', server).update('rules', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('getDiagnostics: the open server.go and the never-opened jobs.go', async function () {
    const text = doc.getText();
    const want = [
      `${lineOf(text, 'hits[r.URL.Path]++')}:concurrent-map-access:error`,
      `${lineOf(text, 'cfg = next')}:shared-var-swap:warning`,
      `${lineOf(text, 'runtime.GC()')}:manual-gc:warning`,
    ].sort();
    await until('the diagnostics of server.go and jobs.go', () => summary(server).length === 3 && summary(jobs).length === 1);
    assert.deepStrictEqual(summary(server), want);
    assert.deepStrictEqual(summary(jobs), ['9:gc-disabled:error']);
    assert.ok(!vscode.workspace.textDocuments.some((d) => d.uri.toString() === jobs.toString()), 'jobs.go must not be open');
    const d = racelens(server).find((x) => codeOf(x) === 'concurrent-map-access');
    assert.match(String(d.code.target), /docs\/rules\/concurrent-map-access\.md$/);
  });

  it('executeCodeActionProvider offers "Wrap in mutex…"; applying it removes the diagnostic', async function () {
    const d = racelens(server).find((x) => codeOf(x) === 'concurrent-map-access');
    assert.ok(d, 'no concurrent-map-access diagnostic');
    const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', server, d.range, vscode.CodeActionKind.QuickFix.value);
    const titles = actions.map((a) => a.title);
    const wrap = actions.find((a) => a.title.startsWith('Wrap in mutex'));
    assert.ok(wrap, `no "Wrap in mutex" among ${JSON.stringify(titles)}`);
    assert.ok(titles.includes('Ignore concurrent-map-access for this line'), JSON.stringify(titles));
    assert.ok(titles.includes('Explain concurrent-map-access'), JSON.stringify(titles));
    assert.ok(await vscode.workspace.applyEdit(wrap.edit), 'applyEdit refused the edit');
    await until('the concurrent-map-access diagnostic to go', () => !has(server, 'concurrent-map-access'));
    assert.match(doc.getText(), /hitsMu\.Lock\(\)/);
    assert.ok(await doc.save(), 'save failed');
    assert.deepStrictEqual(summary(server).map((s) => s.split(':')[1]).sort(), ['manual-gc', 'shared-var-swap']);
  });

  it('racelens.restartServer clears the diagnostics and brings them back', async function () {
    const counts = [];
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === server.toString())) counts.push(racelens(server).length);
    });
    try {
      const before = summary(server);
      await vscode.commands.executeCommand('racelens.restartServer');
      await until('diagnostics back after the restart', () => counts.includes(0) && summary(server).length === before.length && summary(jobs).length === 1);
      assert.deepStrictEqual(summary(server), before);
    } finally {
      sub.dispose();
    }
  });

  it('a killed server is restarted by the client and the diagnostics come back', async function () {
    const { execFileSync } = require('child_process');
    const ext = vscode.extensions.getExtension('racelens.racelens');
    // The server is a child of this extension host: find it by its bundle path and kill it hard.
    const pids = () => execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n')
      .filter((l) => l.includes(require('path').join(ext.extensionPath, 'dist', 'server.js')))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    const [victim] = pids();
    assert.ok(victim, 'the racelens server process was not found');
    const before = summary(server);
    process.kill(victim, 'SIGKILL');
    await until('a new server process', () => pids().some((p) => p !== victim), 30000);
    await until('diagnostics back from the new server', () => summary(server).length === before.length && summary(jobs).length === 1, 30000);
    assert.deepStrictEqual(summary(server), before);
  });

  it('racelens.rules {"manual-gc": "off"} takes effect, and removing it restores the finding', async function () {
    const config = vscode.workspace.getConfiguration('racelens', server);
    await config.update('rules', { 'manual-gc': 'off' }, vscode.ConfigurationTarget.Workspace);
    await until('manual-gc to go', () => !has(server, 'manual-gc'));
    assert.ok(has(server, 'shared-var-swap'), 'the other rules must stay on');
    await config.update('rules', undefined, vscode.ConfigurationTarget.Workspace);
    await until('manual-gc to come back', () => has(server, 'manual-gc'));
  });
});
