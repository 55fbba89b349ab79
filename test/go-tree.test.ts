// How the go tool sees a tree (engine/go-tree.ts), shared by every host that walks one.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goDirective, skipsDir, SKIPPED_DIRS_GLOB } from '../server/src/engine/go-tree';

describe('go tree conventions', () => {
  it('skips vendor, testdata, node_modules and folders starting with . or _', () => {
    for (const name of ['vendor', 'testdata', 'node_modules', '.git', '_build']) assert.equal(skipsDir(name), true, name);
    for (const name of ['svc', 'vendored', 'test_data', 'internal']) assert.equal(skipsDir(name), false, name);
    assert.equal(SKIPPED_DIRS_GLOB, '**/{vendor,testdata,node_modules}/**');
  });

  it('reads the go directive of go.mod', () => {
    assert.equal(goDirective('module m\n\ngo 1.21\n'), '1.21');
    assert.equal(goDirective('module m\ngo 1.22.3\ntoolchain go1.23.0\n'), '1.22.3');
    assert.equal(goDirective('module m\n'), '');
    assert.equal(goDirective('module m\n// go 1.21\n'), '');
  });
});
