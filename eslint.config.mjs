// ESLint (flat config): typescript-eslint's recommended rules for the TypeScript, ESLint's for the
// scripts. `npm test` runs it and allows no warning.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.cache/', '.out-*/', 'grammars/', 'test/e2e/artifacts*/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Scripts and test drivers run in Node; the e2e drivers also hand functions to the browser page.
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: { ...globals.node } } },
  { files: ['test/e2e/**', 'test/web/**'], languageOptions: { globals: { ...globals.browser } } },
  // The extension-API tests are CommonJS modules that VS Code's extension host loads with mocha.
  {
    files: ['test/e2e/api/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['test/e2e/api/**/*.test.js'], languageOptions: { globals: { ...globals.mocha } } },
);
