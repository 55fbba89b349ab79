// Extension-API tests: loaded as extensionTestsPath by VS Code (code-server's payload in
// test/e2e/run.mjs, or @vscode/test-electron through test/e2e/api/run-electron.mjs). run() executes
// in the extension host with the real `vscode` API and mocha from the repo's node_modules.
// The code-server path gets no exit code back, so the result is also written as JSON to
// $RACELENS_E2E_RESULT when that is set; the driver polls that file. With $RACELENS_E2E_HOLD, the
// host stays up after the tests until that file exists (the driver's screenshot), at most 30 s.
'use strict';
const fs = require('fs');
const path = require('path');
const mochaModule = require('mocha');
const Mocha = typeof mochaModule === 'function' ? mochaModule : mochaModule.Mocha ?? mochaModule.default; // mocha 12: ESM-style exports

/** Resolves once $RACELENS_E2E_HOLD exists (or after 30 s), at once when it is not set. */
async function held() {
  const hold = process.env.RACELENS_E2E_HOLD;
  for (const t0 = Date.now(); hold && !fs.existsSync(hold) && Date.now() - t0 < 30000;) await new Promise((r) => setTimeout(r, 100));
}

function run() {
  const mocha = new Mocha({ ui: 'bdd', timeout: 30000, color: false, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, 'racelens.test.js'));
  const resultFile = process.env.RACELENS_E2E_RESULT;
  const tests = [];
  const write = (extra) => {
    if (!resultFile) return;
    const result = { failures: tests.filter((t) => t.state !== 'passed').length, tests, ...extra };
    fs.writeFileSync(`${resultFile}.tmp`, JSON.stringify(result, null, 2));
    fs.renameSync(`${resultFile}.tmp`, resultFile); // the driver never reads a half-written file
  };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write({});
        void held().then(() => {
          if (failures) reject(new Error(`${failures} racelens API tests failed`));
          else resolve();
        });
      });
      runner.on('pass', (t) => tests.push({ title: t.fullTitle(), state: 'passed', duration: t.duration }));
      runner.on('fail', (t, err) => tests.push({ title: t.fullTitle(), state: 'failed', duration: t.duration, error: String(err && err.stack || err) }));
    } catch (e) {
      write({ failures: 1, error: String(e && e.stack || e) });
      reject(e);
    }
  });
}

module.exports = { run };
