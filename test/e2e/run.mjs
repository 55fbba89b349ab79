// End-to-end suite (issue 7): racelens in a real VS Code workbench (code-server 4.100.3 = VS Code
// 1.100.3) driven by Debian's Chromium through playwright-core. Run `bash test/e2e/setup.sh` first
// (npm run test:e2e does both). See test/e2e/README.md.
//
//   node test/e2e/run.mjs [--no-api] [--keep] [--web]
//
// --web installs the web extension alone (the manifest without "main"): VS Code then runs its
// browser client in the web worker extension host and the server in a web worker, reading the
// workspace through workspace.fs, as in vscode.dev. The same browser steps must pass; the
// extension-API tests need the Node extension host and are skipped.
//
// Builds and packages a fresh .vsix in .cache/e2e/run-*/ (the repo's dist/ and grammars/ are not
// touched), installs it into a scratch code-server, and asserts in the browser, with a screenshot
// per step in test/e2e/artifacts/: squiggles, Problems panel (incl. a never-opened file), hover,
// the quick-fixes (Wrap in mutex, Switch to atomic.Pointer, Ignore) with gofmt/go vet on the saved
// files, and as-you-type latency; then the extension-API tests (test/e2e/api/) in the same server.
// Fails loudly: the failing step, its screenshot and the logs; no retries.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CACHE, ROOT, TOOLS, copyWorkspace, goChecks, locate, stageExtension } from './lib.mjs';

const argv = process.argv.slice(2);
const web = argv.includes('--web');
const withApi = !argv.includes('--no-api') && !web;
const apiOnly = argv.includes('--api-only'); // skip the browser assertions (for working on the API tests)
const keep = argv.includes('--keep') || process.env.E2E_KEEP === '1';
const ARTIFACTS = join(ROOT, 'test', 'e2e', web ? 'artifacts-web' : 'artifacts');
const ENTRY = join(TOOLS, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const PLAYWRIGHT = join(TOOLS, 'node_modules', 'playwright-core', 'index.mjs');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TYPE_LATENCY_BUDGET_MS = 1000;

for (const [what, p] of [['code-server', ENTRY], ['playwright-core', PLAYWRIGHT], ['chromium', CHROMIUM]]) {
  if (!existsSync(p)) {
    console.error(`e2e: ${what} is missing (${p}): run "bash test/e2e/setup.sh" (npm run test:e2e does it)`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------- scratch folders, logs, timings
// Short names: VS Code puts Unix sockets in TMPDIR, and their paths must stay under 107 characters.
const RUN = join(CACHE, `run-${process.pid}-${Date.now().toString(36)}`);
const dirs = {
  stage: join(RUN, 'stage'), home: join(RUN, 'home'), tmp: join(RUN, 't'), ud: join(RUN, 'user-data'),
  ext: join(RUN, 'extensions'), ws: join(RUN, 'ws'), apiWs: join(RUN, 'ws-api'),
};
rmSync(ARTIFACTS, { recursive: true, force: true });
mkdirSync(ARTIFACTS, { recursive: true });
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

const started = Date.now();
const timings = {};
let server; // the code-server child process
let browser;
let page;
let stepNo = 0;

const scratchEnv = {
  ...process.env,
  HOME: dirs.home, XDG_CONFIG_HOME: join(dirs.home, '.config'), XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
  XDG_CACHE_HOME: join(dirs.home, '.cache'), TMPDIR: dirs.tmp,
};

function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}

async function shot(name) {
  if (!page || page.url() === 'about:blank') return; // nothing to show yet (e.g. right after the launch)
  try {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), timeout: 5000 });
  } catch (e) {
    log(`(screenshot ${name} failed: ${e.message})`);
  }
}

/** An extra screenshot inside the current step (e.g. a menu or hover before it is dismissed). */
const stepShot = (suffix) => shot(`${String(stepNo).padStart(2, '0')}${suffix}`);

/** A rule's short doc, from the README's rules table (generated from the rule metadata). */
function ruleDoc(id) {
  const row = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').find((l) => l.startsWith(`| [\`${id}\`]`));
  if (!row) throw new Error(`README.md has no rules-table row for ${id}`);
  const cells = row.split(' | ');
  return { title: cells[2].trim(), doc: cells[3].replace(/\s*\|\s*$/, '').trim() };
}

class StepError extends Error {}

/** Runs one named step; a screenshot after it (FAILED-… when it throws). No retries. */
async function step(name, fn) {
  const label = `${String(++stepNo).padStart(2, '0')}-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
  const t = Date.now();
  log(`▶ ${name}`);
  try {
    const result = await fn();
    await shot(label);
    log(`✔ ${name} (${Date.now() - t} ms)`);
    return result;
  } catch (e) {
    await shot(`FAILED-${label}`);
    const err = new StepError(`step "${name}" failed: ${e.message}\n  screenshot: ${relative(ROOT, join(ARTIFACTS, `FAILED-${label}.png`))}`);
    err.cause = e;
    throw err;
  }
}

/** Polls `probe` until it returns a truthy value or the deadline passes; the error shows the last value. */
async function waitFor(what, probe, timeout = 10000, interval = 10) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last && last.ok !== false) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}; last seen: ${JSON.stringify(last?.seen ?? last)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = get(url, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => { req.destroy(); resolve(0); });
  });
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode) return;
  const exited = new Promise((r) => server.once('exit', r));
  try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ }
  const timer = setTimeout(() => { try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await exited;
  clearTimeout(timer);
}

async function cleanup(failed) {
  try { await browser?.close(); } catch { /* ignore */ }
  await stopServer();
  if (failed) {
    // Keep what explains the failure next to the screenshots.
    try { cpSync(join(RUN, 'code-server.log'), join(ARTIFACTS, 'code-server.log')); } catch { /* none */ }
    try { cpSync(join(dirs.ud, 'logs'), join(ARTIFACTS, 'logs'), { recursive: true }); } catch { /* none */ }
  }
  if (!keep) rmSync(RUN, { recursive: true, force: true });
  else log(`scratch folder kept: ${RUN}`);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => { log(`${sig}: stopping`); await cleanup(true); process.exit(130); });
}

// ---------------------------------------------------------------- the workbench, seen from the page
/** Installed in the page: squiggles of the active editor with the line they sit on. */
function installProbes() {
  window.__e2e = {
    editor() {
      return document.querySelector('.part.editor .editor-group-container.active .editor-instance .monaco-editor')
        ?? document.querySelector('.part.editor .editor-instance .monaco-editor');
    },
    squiggles() {
      const editor = window.__e2e.editor();
      if (!editor) return null;
      const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')].map((el) => {
        const r = el.getBoundingClientRect();
        return { line: Number(el.textContent.trim()), top: r.top, bottom: r.bottom };
      });
      const out = [];
      for (const el of editor.querySelectorAll('.view-overlays [class*="squiggly-"]')) {
        const m = /\bsquiggly-(error|warning|info|hint)\b/.exec(el.className);
        if (!m) continue;
        const r = el.getBoundingClientRect();
        const y = (r.top + r.bottom) / 2;
        const n = numbers.find((x) => y >= x.top && y < x.bottom);
        out.push({ severity: m[1], line: n ? n.line : null, x: r.left + Math.min(r.width / 2, 40), y });
      }
      return out.sort((a, b) => a.line - b.line || a.severity.localeCompare(b.severity));
    },
    renderedLines() {
      const editor = window.__e2e.editor();
      const n = [...(editor?.querySelectorAll('.margin-view-overlays .line-numbers') ?? [])].map((el) => Number(el.textContent.trim()));
      return n.length ? { first: Math.min(...n), last: Math.max(...n) } : null;
    },
    activeTab() {
      const t = document.querySelector('.part.editor .tabs-container .tab.active');
      return t ? { label: t.getAttribute('aria-label') ?? t.textContent, dirty: t.classList.contains('dirty') } : null;
    },
    tabs() {
      return [...document.querySelectorAll('.part.editor .tabs-container .tab')].map((t) => t.getAttribute('aria-label') ?? t.textContent);
    },
    visible(el) {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    },
  };
}

const squiggles = () => page.evaluate(() => window.__e2e.squiggles());
const key = (s) => s.map((q) => `${q.line}:${q.severity}`).join(',');

/**
 * Waits until the active editor shows exactly these squiggles ({line, severity}). Scrolls to the
 * top first (Ctrl+Home) and checks that every line of the file is rendered, so none can hide.
 */
async function expectSquiggles(expected, timeout = 10000, file = join(dirs.ws, 'server.go')) {
  await page.keyboard.press('Control+Home');
  const lines = readFileSync(file, 'utf8').split('\n').length;
  await waitFor(`lines 1-${lines} rendered`, async () => {
    const r = await page.evaluate(() => window.__e2e.renderedLines());
    return r && r.first === 1 && r.last >= lines ? r : { ok: false, seen: r };
  }, 5000);
  const want = key([...expected].sort((a, b) => a.line - b.line || a.severity.localeCompare(b.severity)));
  return waitFor(`squiggles [${want}]`, async () => {
    const s = await squiggles();
    return s && key(s) === want ? s : { ok: false, seen: s && key(s) };
  }, timeout);
}

async function activeTab() {
  return page.evaluate(() => window.__e2e.activeTab());
}

async function quickOpen(name) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 5000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 5000 });
}

/** Ctrl+G line:column (characters), then checks the cursor in the status bar (visual column, tab = 4). */
async function gotoLine(line, column, text) {
  const visual = [...text.slice(0, column - 1)].reduce((v, c) => (c === '\t' ? v + 4 - (v % 4) : v + 1), 0) + 1;
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 5000 });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 5000 });
  await waitFor(`cursor at Ln ${line}, Col ${visual}`, async () => {
    const t = await page.locator('#status\\.editor\\.selection').textContent({ timeout: 2000 }).catch(() => '');
    return t?.includes(`Ln ${line}, Col ${visual}`) ? t : { ok: false, seen: t };
  }, 5000);
  // The editor takes the focus back after the quick input closes; a key sent before that goes elsewhere.
  await waitFor('the editor to have the keyboard focus', async () => page.evaluate(() => !!document.activeElement?.closest('.part.editor .monaco-editor')), 5000);
  // Let the code-action auto-trigger that the cursor move schedules (250 ms) run before Ctrl+.
  await new Promise((r) => setTimeout(r, 300));
}

/** Ctrl+. on the cursor, moves the focus to the row whose text contains `title` and presses Enter. */
async function quickFix(title) {
  await page.keyboard.press('Control+.');
  const rows = page.locator('.action-widget .monaco-list-row');
  await rows.first().waitFor({ state: 'visible', timeout: 5000 });
  const texts = await rows.allTextContents();
  if (!texts.some((t) => t.includes(title))) throw new Error(`no quick fix "${title}" in the menu: ${JSON.stringify(texts)}`);
  let focused = '';
  for (let i = 0; i <= texts.length; i++) {
    focused = (await page.locator('.action-widget .monaco-list-row.focused').allTextContents())[0] ?? '';
    if (focused.includes(title)) break;
    await page.keyboard.press('ArrowDown');
  }
  if (!focused.includes(title)) throw new Error(`could not focus "${title}" in the menu: ${JSON.stringify(texts)}`);
  await stepShot('a-quick-fix-menu');
  await page.keyboard.press('Enter');
  await rows.first().waitFor({ state: 'hidden', timeout: 5000 });
  return texts;
}

async function save() {
  await page.keyboard.press('Control+S');
  await waitFor('the editor to be saved (tab not dirty)', async () => {
    const t = await activeTab();
    return t && !t.dirty ? t : { ok: false, seen: t };
  }, 5000);
}

async function problemsRows() {
  return page.locator('.markers-panel .monaco-list-row').allTextContents();
}

// ---------------------------------------------------------------- the suite
let failed = false;
try {
  const expectedCli = [
    { file: 'jobs.go', needle: 'debug.SetGCPercent(-1)', ruleId: 'gc-disabled', severity: 'error' },
    { file: 'server.go', needle: 'cfg = next', ruleId: 'shared-var-swap', severity: 'warning' },
    { file: 'server.go', needle: 'hits[r.URL.Path]++', ruleId: 'concurrent-map-access', severity: 'error' },
    { file: 'server.go', needle: 'runtime.GC()', ruleId: 'manual-gc', severity: 'warning' },
  ];

  const vsix = await step('Build and package the extension', async () => {
    const t = Date.now();
    const out = stageExtension(dirs.stage, { vsix: true, webOnly: web });
    timings.buildAndPackageMs = Date.now() - t;
    log(`  ${relative(ROOT, out)} (${Math.round(readFileSync(out).length / 1024)} KB)`);
    return out;
  });

  await step('Fixture findings from the freshly built CLI', async () => {
    copyWorkspace(dirs.ws);
    goChecks(dirs.ws);
    const r = spawnSync(process.execPath, [join(dirs.stage, 'dist', 'cli.js'), 'check', '--format', 'json', './...'], { cwd: dirs.ws, encoding: 'utf8' });
    if (r.status !== 1) throw new Error(`racelens check exited ${r.status} (want 1): ${r.stderr}`);
    const got = JSON.parse(r.stdout).map((f) => `${f.path}:${f.line}:${f.column} ${f.ruleId} ${f.severity}`).sort();
    const want = expectedCli.map((e) => {
      const at = locate(join(dirs.ws, e.file), e.needle);
      return `${e.file}:${at.line}:${at.column} ${e.ruleId} ${e.severity}`;
    }).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`CLI findings differ:\n  got  ${got.join('\n       ')}\n  want ${want.join('\n       ')}`);
  });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;

  await step('Install the .vsix and start code-server', async () => {
    writeFileSync(join(RUN, 'cs-config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    mkdirSync(join(dirs.ud, 'User'), { recursive: true });
    writeFileSync(join(dirs.ud, 'User', 'settings.json'), JSON.stringify({
      'telemetry.telemetryLevel': 'off',
      'workbench.startupEditor': 'none',
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'security.workspace.trust.enabled': false,
      'extensions.ignoreRecommendations': true,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'update.showReleaseNotes': false,
      'chat.commandCenter.enabled': false,
      'go.toolsManagement.autoUpdate': false,
      'go.toolsManagement.checkForUpdates': 'off',
      'go.survey.prompt': false,
      'go.useLanguageServer': false,
      'git.enabled': false,
      'git.openRepositoryInParentFolders': 'never',
      'files.autoSave': 'off',
      'editor.formatOnSave': false,
      'editor.minimap.enabled': false,
      'editor.stickyScroll.enabled': false,
      'editor.codeLens': false,
      'editor.inlayHints.enabled': 'off',
      // Keep the light bulb on: with it off, VS Code 1.100's code-action auto-trigger (250 ms after a
      // cursor or marker change) resets the state to Empty and cancels a pending Ctrl+. request, which
      // then shows "No code actions available" (codeActionModel.ts, CodeActionOracle).
      'editor.quickSuggestions': { other: false, comments: false, strings: false },
      'editor.suggestOnTriggerCharacters': false,
      'editor.wordBasedSuggestions': 'off',
      'editor.autoClosingBrackets': 'never',
      'editor.autoClosingQuotes': 'never',
      'editor.hover.delay': 150,
      'editor.tabSize': 4,
      'editor.detectIndentation': false,
      'breadcrumbs.enabled': false,
      'workbench.editor.enablePreview': false,
      // E2E_TRACE=1: the LSP traffic goes to the racelens log (with code-server --log trace), which is
      // copied to artifacts/logs/ when a step fails. Off by default: it slows the client down.
      ...(process.env.E2E_TRACE === '1' ? { 'racelens.trace.server': 'verbose' } : {}),
    }, null, 2));
    const install = spawnSync(process.execPath, [ENTRY, '--install-extension', vsix, '--force',
      '--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext], { env: scratchEnv, encoding: 'utf8', timeout: 60000 });
    if (install.status !== 0 || !readdirSync(dirs.ext).some((d) => d.startsWith('racelens.racelens-'))) {
      throw new Error(`--install-extension failed (${install.status}): ${install.stdout}${install.stderr}`);
    }
    const logFd = openSync(join(RUN, 'code-server.log'), 'w');
    const t = Date.now();
    server = spawn(process.execPath, [ENTRY, '--config', join(RUN, 'cs-config.yaml'), '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', ...(process.env.E2E_TRACE === '1' ? ['--log', 'trace'] : []),
      '--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext, dirs.ws], {
      env: { ...scratchEnv, RACELENS_E2E_RESULT: join(RUN, 'api-result.json'), RACELENS_E2E_HOLD: join(RUN, 'api-screenshot-taken') },
      stdio: ['ignore', logFd, logFd], detached: true, // its own process group: stopped by its PID
    });
    server.on('exit', (code, sig) => { if (!failed) log(`code-server (pid ${server.pid}) exited: ${code ?? sig}`); });
    log(`  code-server pid ${server.pid} on ${base}`);
    await waitFor('code-server /healthz', async () => {
      if (server.exitCode !== null) throw new Error(`code-server exited ${server.exitCode}: ${readFileSync(join(RUN, 'code-server.log'), 'utf8').slice(-2000)}`);
      return (await httpStatus(`${base}/healthz`)) === 200;
    }, 30000, 100);
    timings.codeServerHealthyMs = Date.now() - t;
  });

  const context = await step('Launch Chromium', async () => {
    const { chromium } = await import(pathToFileURL(PLAYWRIGHT).href);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const c = await browser.newContext({ viewport: { width: 1600, height: 1500 } });
    await c.addInitScript(installProbes);
    page = await c.newPage();
    return c;
  });
  const pageErrors = [];
  const consoleLog = [];
  const watchPage = (p) => {
    p.on('pageerror', (e) => pageErrors.push(e.message));
    p.on('console', (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
  };
  watchPage(page);
  process.on('exit', () => { if (consoleLog.length) writeFileSync(join(ARTIFACTS, 'browser-console.txt'), consoleLog.join('\n') + '\n'); });

  if (!apiOnly) {
    await step('Open the workbench', async () => {
      const t = Date.now();
      await page.goto(`${base}/?folder=${encodeURIComponent(dirs.ws)}`, { timeout: 30000 });
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 30000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'server.go' }).first().waitFor({ state: 'visible', timeout: 20000 });
      timings.workbenchReadyMs = Date.now() - t;
    });

    const server_go = join(dirs.ws, 'server.go');
    const jobs_go = join(dirs.ws, 'jobs.go');
    const at = (needle, file = server_go) => locate(file, needle);

    await step('Open server.go: squiggles of the right severity on the right lines', async () => {
      await quickOpen('server.go');
      const t0 = Date.now();
      await page.keyboard.press('Enter');
      await page.locator('.part.editor .editor-instance .view-lines').first().waitFor({ state: 'visible', timeout: 10000 });
      await waitFor('the first squiggle', async () => ((await squiggles()) ?? []).length > 0, 20000);
      timings.openToFirstSquiggleMs = Date.now() - t0;
      await expectSquiggles([
        { line: at('hits[r.URL.Path]++').line, severity: 'error' },
        { line: at('cfg = next').line, severity: 'warning' },
        { line: at('runtime.GC()').line, severity: 'warning' },
      ]);
      timings.openToAllSquigglesMs = Date.now() - t0;
    });

    await step(web ? 'The server runs in a web worker: no Node server process' : 'The server runs in Node: one server process', async () => {
      const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n');
      const nodeServers = ps.filter((l) => l.includes(join(dirs.ext, 'racelens.racelens-')) && l.includes(join('dist', 'server.js')));
      if (nodeServers.length !== (web ? 0 : 1)) throw new Error(`Node server processes: ${JSON.stringify(nodeServers)}`);
    });

    await step('Problems panel lists the open file and the never-opened jobs.go', async () => {
      const t0 = Date.now();
      await page.keyboard.press('Control+Shift+M');
      await page.locator('.markers-panel .monaco-list-row').first().waitFor({ state: 'visible', timeout: 5000 });
      const want = [
        'jobs.go', 'debug.SetGCPercent(-1) disables the garbage collector', `[Ln ${at('debug.SetGCPercent(-1)', jobs_go).line}, Col 2]`,
        'server.go', 'hits is written in HTTP handler count', 'cfg is replaced in goroutine reload', 'runtime.GC() forces a stop-the-world collection',
      ];
      const rows = await waitFor('Problems rows', async () => {
        const r = await problemsRows();
        const text = r.join('\n');
        return want.every((w) => text.includes(w)) ? r : { ok: false, seen: r };
      }, 10000);
      timings.problemsWithClosedFileMs = Date.now() - t0;
      writeFileSync(join(ARTIFACTS, 'problems.txt'), rows.join('\n') + '\n');
      for (const rule of ['gc-disabled', 'concurrent-map-access', 'shared-var-swap', 'manual-gc']) {
        if (!rows.some((r) => r.includes(rule))) throw new Error(`no Problems row names rule ${rule}: ${JSON.stringify(rows)}`);
      }
      const tabs = await page.evaluate(() => window.__e2e.tabs());
      if (tabs.some((t) => t.includes('jobs.go'))) throw new Error(`jobs.go was opened in the editor: ${tabs}`);
    });

    await step('Status bar shows the counts', async () => {
      await page.keyboard.press('Control+J'); // hide the Problems panel (left open for its screenshot): the editor gets its height back
      await page.locator('.markers-panel').waitFor({ state: 'hidden', timeout: 5000 });
      await waitFor('racelens status item "racelens 4"', async () => {
        const t = await page.locator('.statusbar-item', { hasText: 'racelens' }).allTextContents();
        return t.some((s) => /racelens 4\b/.test(s)) ? t : { ok: false, seen: t };
      }, 10000);
    });

    await step('Hover on the map squiggle shows the rule doc and its link', async () => {
      const line = at('hits[r.URL.Path]++').line;
      const sq = (await squiggles()).find((s) => s.line === line && s.severity === 'error');
      await page.mouse.move(sq.x, sq.y);
      const rule = ruleDoc('concurrent-map-access');
      const hover = page.locator('.monaco-hover:visible', { hasText: rule.title }).first();
      await hover.waitFor({ state: 'visible', timeout: 5000 });
      await stepShot('a-hover');
      const text = await hover.textContent();
      writeFileSync(join(ARTIFACTS, 'hover.txt'), text + '\n');
      for (const w of [rule.title, 'racelens error · concurrent-map-access', rule.doc]) {
        if (!text.includes(w)) throw new Error(`hover lacks "${w}": ${text}`);
      }
      const links = await hover.locator('a').evaluateAll((as) => as.map((a) => ({ text: a.textContent, href: a.getAttribute('data-href') ?? a.getAttribute('href') })));
      const doc = links.find((l) => l.text === 'concurrent-map-access');
      if (!doc || !/docs\/rules\/concurrent-map-access\.md$/.test(doc.href ?? '')) throw new Error(`no documentation link in the hover: ${JSON.stringify(links)}`);
      await page.keyboard.press('Escape');
      await page.mouse.move(1500, 1350); // blank editor space: no hover there
      await hover.waitFor({ state: 'hidden', timeout: 5000 });
    });

    await step('Quick fix "Wrap in mutex" then save: mutex on disk, error gone, gofmt and go vet clean', async () => {
      const p = at('hits[r.URL.Path]++');
      await gotoLine(p.line, p.column, p.text);
      const menu = await quickFix('Wrap in mutex');
      log(`  quick-fix menu: ${menu.join(' | ')}`);
      const t0 = Date.now();
      await waitFor('the error squiggle to go', async () => { const s = await squiggles(); return s && !s.some((q) => q.severity === 'error') ? s : { ok: false, seen: s && key(s) }; }, 5000);
      timings.wrapInMutexToSquiggleGoneMs = Date.now() - t0;
      await save();
      const text = readFileSync(server_go, 'utf8');
      for (const w of ['"sync"', 'hitsMu sync.Mutex', 'hitsMu.Lock()', 'hitsMu.Unlock()']) {
        if (!text.includes(w)) throw new Error(`server.go on disk lacks ${w}:\n${text}`);
      }
      goChecks(dirs.ws);
      await expectSquiggles([{ line: at('cfg = next').line, severity: 'warning' }, { line: at('runtime.GC()').line, severity: 'warning' }]);
    });

    await step('Quick fix "Switch to atomic.Pointer[Config]" then save: gofmt and go vet clean', async () => {
      const p = at('cfg = next');
      await gotoLine(p.line, p.column, p.text);
      const menu = await quickFix('Switch to atomic.Pointer[Config]');
      log(`  quick-fix menu: ${menu.join(' | ')}`);
      const t0 = Date.now();
      await waitFor('the shared-var-swap squiggle to go', async () => { const s = await squiggles(); return s && s.length === 1 ? s : { ok: false, seen: s && key(s) }; }, 5000);
      timings.atomicPointerToSquiggleGoneMs = Date.now() - t0;
      await save();
      const text = readFileSync(server_go, 'utf8');
      for (const w of ['"sync/atomic"', 'atomic.Pointer[Config]', 'cfg.Store(next)', 'cfgNow := cfg.Load()', 'cfgNow.Limit', 'cfgNow.Name']) {
        if (!text.includes(w)) throw new Error(`server.go on disk lacks ${w}:\n${text}`);
      }
      if (/^\s*cfg = next/m.test(text)) throw new Error('server.go still assigns cfg = next');
      if ((text.match(/cfg\.Load\(\)/g) ?? []).length !== 1) throw new Error('limit should load cfg once (no torn reads):\n' + text);
      goChecks(dirs.ws);
      await expectSquiggles([{ line: at('runtime.GC()').line, severity: 'warning' }]);
    });

    /**
     * Opens a line after `after`, types `typed` (not yet a finding), checks nothing new shows, then
     * presses `lastKey`, which completes the hazard, and times the squiggle on the new line. Then
     * Ctrl+Z until the tab is clean, and the squiggles are as before.
     */
    async function typeHazard({ after, typed, lastKey, severity, timing }) {
      const p = at(after);
      const gc = at('runtime.GC()').line + 1; // the new line pushes runtime.GC() down by one
      await gotoLine(p.line, p.column, p.text);
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await page.keyboard.type(typed);
      await new Promise((r) => setTimeout(r, 600)); // longer than the server's debounce and package-rule pause
      const before = await squiggles();
      if (key(before) !== key([{ line: gc, severity: 'warning' }])) throw new Error(`unexpected squiggles before the last keystroke: ${key(before)}`);
      await stepShot('a-before-keystroke');
      const t0 = Date.now();
      await page.keyboard.press(lastKey);
      await waitFor(`a ${severity} squiggle on the typed line`, async () => {
        const s = await squiggles();
        return s?.some((q) => q.line === p.line + 1 && q.severity === severity) ? s : { ok: false, seen: s && key(s) };
      }, 5000, 5);
      timings[timing] = Date.now() - t0;
      await stepShot('b-typed-squiggle');
      if (timings[timing] > TYPE_LATENCY_BUDGET_MS) throw new Error(`keystroke → squiggle took ${timings[timing]} ms (budget ${TYPE_LATENCY_BUDGET_MS} ms)`);
      // Undo the typing: Ctrl+Z until the editor is back at the saved version (the tab is clean).
      let undos = 0;
      for (let clean = false; !clean;) {
        if (++undos > 8) throw new Error('8 × Ctrl+Z did not bring the editor back to the saved text');
        await page.keyboard.press('Control+Z');
        clean = await waitFor('a clean tab', async () => (await activeTab())?.dirty === false, 500).then(() => true, () => false);
      }
      await expectSquiggles([{ line: at('runtime.GC()').line, severity: 'warning' }], 5000);
      return undos;
    }

    await step('Typing a racy map write (package rule) shows an error squiggle within a second; Ctrl+Z removes it', async () => {
      // visits[r.URL.Path]+ is not yet a write; the last + makes it a map write in an HTTP handler.
      await typeHazard({ after: 'fmt.Fprintln(w, cfgNow.Name)', typed: 'visits[r.URL.Path]+', lastKey: '+', severity: 'error', timing: 'keystrokeToSquiggleMs' });
    });

    await step('Typing runtime.GC() (file rule) shows a warning squiggle within a second; Ctrl+Z removes it', async () => {
      await typeHazard({ after: 'fmt.Fprintln(w, cfgNow.Name)', typed: 'runtime.GC(', lastKey: ')', severity: 'warning', timing: 'keystrokeToSquiggleFileRuleMs' });
    });

    await step('Quick fix "Ignore manual-gc for this line" inserts the comment and clears the warning', async () => {
      const p = at('runtime.GC()');
      await gotoLine(p.line, p.column, p.text);
      await quickFix('Ignore manual-gc for this line');
      await waitFor('no squiggles', async () => { const s = await squiggles(); return s && s.length === 0 ? s : { ok: false, seen: s && key(s) }; }, 5000);
      await save();
      const lines = readFileSync(server_go, 'utf8').split('\n');
      const gc = at('runtime.GC()').line;
      if (!/^\t\/\/racelens:ignore manual-gc\b/.test(lines[gc - 2])) throw new Error(`the line above runtime.GC() is not the suppression: ${JSON.stringify(lines[gc - 2])}`);
      goChecks(dirs.ws);
      await expectSquiggles([], 3000);
    });

    await step('After the fixes: only jobs.go\'s finding is left and jobs.go was never opened', async () => {
      await waitFor('racelens status item "racelens 1"', async () => {
        const t = await page.locator('.statusbar-item', { hasText: 'racelens' }).allTextContents();
        return t.some((s) => /racelens 1\b/.test(s)) ? t : { ok: false, seen: t };
      }, 10000);
      await page.keyboard.press('Control+Shift+M');
      await waitFor('Problems: only jobs.go', async () => {
        const r = await problemsRows();
        const text = r.join('\n');
        return text.includes('jobs.go') && text.includes('gc-disabled') && !text.includes('server.go') ? r : { ok: false, seen: r };
      }, 10000);
      const tabs = await page.evaluate(() => window.__e2e.tabs());
      if (tabs.some((t) => t.includes('jobs.go'))) throw new Error(`jobs.go was opened in the editor: ${tabs}`);
      if (pageErrors.length) log(`  page errors (not failing): ${pageErrors.slice(0, 5).join(' | ')}`);
    });
  } // !apiOnly

  if (withApi) {
    await step('Extension-API tests (mocha) in the extension host', async () => {
      if (!apiOnly) await page.close();
      copyWorkspace(dirs.apiWs);
      const resultFile = join(RUN, 'api-result.json');
      rmSync(resultFile, { force: true });
      rmSync(join(RUN, 'api-screenshot-taken'), { force: true });
      const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
      const payload = JSON.stringify([
        ['extensionDevelopmentPath', remote(dirs.stage)],
        ['extensionTestsPath', remote(join(ROOT, 'test', 'e2e', 'api', 'index.js'))],
      ]);
      page = await context.newPage();
      watchPage(page);
      const t0 = Date.now();
      await page.goto(`${base}/?folder=${encodeURIComponent(dirs.apiWs)}&payload=${encodeURIComponent(payload)}`, { timeout: 30000 });
      const result = await waitFor('the API tests\' result file', async () => {
        // A test module that cannot even load writes no result: the workbench logs it; fail now.
        const broken = consoleLog.find((l) => l.includes('$extensionTestsExecute') || l.includes('Could not find the extension tests'));
        if (broken) throw new Error(`the extension tests did not start: ${broken.slice(0, 1500)}`);
        if (!existsSync(resultFile)) return false;
        try { return JSON.parse(readFileSync(resultFile, 'utf8')); } catch { return false; }
      }, 120000, 250);
      timings.apiTestsMs = Date.now() - t0;
      writeFileSync(join(ARTIFACTS, 'api-result.json'), JSON.stringify(result, null, 2));
      for (const t of result.tests ?? []) log(`  ${t.state === 'passed' ? '✔' : '✘'} api: ${t.title} (${t.duration ?? '?'} ms)${t.error ? `\n      ${t.error}` : ''}`);
      if (!result.tests?.length) throw new Error(`no API tests ran: ${JSON.stringify(result)}`);
      if (result.failures) throw new Error(`${result.failures} of ${result.tests.length} API tests failed (see test/e2e/artifacts/api-result.json)`);
      // The test host waits (RACELENS_E2E_HOLD) until the screenshot shows its squiggles and status item.
      await waitFor('squiggles and the racelens status item after the API tests', async () => {
        const status = await page.locator('.statusbar-item', { hasText: 'racelens' }).allTextContents();
        return status.some((s) => /racelens \d/.test(s)) && ((await squiggles()) ?? []).length > 0;
      }, 15000);
    });
    writeFileSync(join(RUN, 'api-screenshot-taken'), '');
  }
} catch (e) {
  failed = true;
  console.error(`\n✘ e2e FAILED: ${e.message}`);
  if (!(e instanceof StepError) || e.cause?.stack) console.error(e.cause?.stack ?? e.stack);
} finally {
  timings.totalMs = Date.now() - started;
  writeFileSync(join(ARTIFACTS, 'timings.json'), JSON.stringify({ passed: !failed, date: new Date().toISOString(), ...timings }, null, 2) + '\n');
  await cleanup(failed);
}

console.log('\nTimings (ms):');
for (const [k, v] of Object.entries(timings)) console.log(`  ${k.padEnd(32)} ${v}`);
console.log(`\n${failed ? '✘ e2e FAILED' : '✔ e2e passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots and timings.json in ${relative(ROOT, ARTIFACTS)}/`);
process.exit(failed ? 1 : 0);
