// npm run test:electron — the extension-API tests of test/e2e/api/ under @vscode/test-electron, in a
// desktop VS Code. That needs an installed VS Code: set VSCODE_EXECUTABLE to its binary (e.g.
// /usr/share/code/code or "Visual Studio Code.app/Contents/MacOS/Electron"). Nothing is ever
// downloaded: without VSCODE_EXECUTABLE this exits non-zero and says why. On machines without a
// desktop VS Code, `npm run test:e2e` runs the same tests inside code-server instead.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, ROOT, copyWorkspace, stageExtension } from '../lib.mjs';

const executable = process.env.VSCODE_EXECUTABLE;
if (!executable) {
  console.error([
    'test:electron: VSCODE_EXECUTABLE is not set.',
    '@vscode/test-electron needs a desktop VS Code; it would otherwise download one from Microsoft\'s',
    'update service, which is impossible on this network (only the npm registry and Debian apt are',
    'reachable), so this runner never downloads anything. Set VSCODE_EXECUTABLE to an installed VS Code',
    'binary, or run `npm run test:e2e`, which runs the same API tests inside code-server.',
  ].join('\n'));
  process.exit(2);
}
if (!existsSync(executable)) {
  console.error(`test:electron: VSCODE_EXECUTABLE=${executable} does not exist`);
  process.exit(2);
}

const { runTests } = await import('@vscode/test-electron');
const run = join(CACHE, `electron-${process.pid}`);
const stage = join(run, 'stage');
const ws = join(run, 'ws');
mkdirSync(run, { recursive: true });
let code = 1;
try {
  stageExtension(stage, { production: false }); // a fresh build; the repo's dist/ is left alone
  copyWorkspace(ws);
  code = await runTests({
    vscodeExecutablePath: executable,
    extensionDevelopmentPath: stage,
    extensionTestsPath: join(ROOT, 'test', 'e2e', 'api', 'index.js'),
    extensionTestsEnv: { RACELENS_E2E_RESULT: join(run, 'api-result.json') },
    launchArgs: [ws, '--disable-extensions', '--skip-welcome', '--skip-release-notes', '--disable-workspace-trust',
      '--user-data-dir', join(run, 'user-data'), '--extensions-dir', join(run, 'extensions')],
  });
} catch (e) {
  console.error(`test:electron: ${e.message ?? e}`);
  code = typeof e.code === 'number' && e.code ? e.code : 1;
} finally {
  if (process.env.E2E_KEEP !== '1') rmSync(run, { recursive: true, force: true });
}
process.exit(code);
