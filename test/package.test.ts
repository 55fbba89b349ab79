// The .vsix: built by @vsce offline, carries the desktop and web bundles and both .wasm files, no node_modules,
// and stays within its size budget.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, it } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
export const VSIX_BUDGET_BYTES = 1.5 * 1024 * 1024;

interface ZipEntry { name: string; method: number; compressedSize: number; localHeader: number }

/** Entries of a zip file, read from its central directory. */
function zipEntries(buf: Buffer): ZipEntry[] {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50);
    const nameLen = buf.readUInt16LE(at + 28), extraLen = buf.readUInt16LE(at + 30), commentLen = buf.readUInt16LE(at + 32);
    entries.push({
      name: buf.toString('utf8', at + 46, at + 46 + nameLen),
      method: buf.readUInt16LE(at + 10), compressedSize: buf.readUInt32LE(at + 20), localHeader: buf.readUInt32LE(at + 42),
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** One entry's text (stored or deflated). */
function zipText(buf: Buffer, e: ZipEntry): string {
  const start = e.localHeader + 30 + buf.readUInt16LE(e.localHeader + 26) + buf.readUInt16LE(e.localHeader + 28);
  const data = buf.subarray(start, start + e.compressedSize);
  return (e.method === 8 ? zlib.inflateRawSync(data) : data).toString('utf8');
}

describe('vsix package', () => {
  it('contains the bundles, the grammars and the docs, and no node_modules', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-vsix-')), 'racelens.vsix');
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--readme-path', 'docs/marketplace.md', '--out', out], { cwd: ROOT, stdio: 'pipe' });
    const buf = fs.readFileSync(out);
    const entries = zipEntries(buf);
    const names = entries.map((e) => e.name);
    for (const want of ['extension/package.json', 'extension/dist/client.js', 'extension/dist/server.js', 'extension/dist/cli.js',
      'extension/dist/browser/client.js', 'extension/dist/browser/server.js',
      'extension/grammars/tree-sitter-go.wasm', 'extension/grammars/web-tree-sitter.wasm', 'extension/docs/rules/manual-gc.md']) {
      assert.ok(names.includes(want), `${want} missing from the vsix`);
    }
    assert.deepEqual(names.filter((n) => n.includes('node_modules/')), []);
    assert.deepEqual(names.filter((n) => /\.(ts|map)$/.test(n)), []);
    assert.ok(buf.length < VSIX_BUDGET_BYTES, `vsix is ${buf.length} bytes, over the ${VSIX_BUDGET_BYTES} budget`);
    // The Marketplace page is the user README (docs/marketplace.md), not the developer one; the changelog goes along.
    const readme = entries.find((e) => /^extension\/readme\.md$/i.test(e.name));
    assert.ok(readme, 'no readme in the vsix');
    assert.equal(zipText(buf, readme), fs.readFileSync(path.join(ROOT, 'docs', 'marketplace.md'), 'utf8'));
    assert.ok(names.some((n) => /^extension\/changelog\.md$/i.test(n)), 'no changelog in the vsix');
  });
});
