// Details of the map and sync.Map rules that want comments and golden files do not pin: fix
// titles, which findings carry no fix, and that the fixed text is what the next round sees.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Rule } from '../server/src/engine/rule';
import { mapInsertDuringRange } from '../server/src/rules/shared-state/map-insert-during-range';
import { nilInnerMap } from '../server/src/rules/shared-state/nil-inner-map';
import { rangeAppendLostUpdate } from '../server/src/rules/shared-state/range-append-lost-update';
import { syncmapCheckThenAct } from '../server/src/rules/shared-state/syncmap-check-then-act';
import { analyzeTexts, fixTexts, testParser } from './support/engine';

async function findings(rule: Rule, body: string) {
  const p = await testParser();
  return analyzeTexts(p, new Map([['/t/a.go', `package a\n\nimport "sync"\n\nvar _ sync.Map\n\n${body}`]]), [rule]);
}

async function fixed(rule: Rule, body: string): Promise<string> {
  const p = await testParser();
  const texts = new Map([['/t/a.go', `package a\n\nimport "sync"\n\nvar _ sync.Map\n\n${body}`]]);
  const out = await fixTexts(p, texts, [rule]);
  return (out.changed.get('/t/a.go')?.after ?? texts.get('/t/a.go')!).split('var _ sync.Map\n\n')[1];
}

describe('syncmap-check-then-act fix titles', () => {
  it('says when the stored value now runs even if the key exists', async () => {
    const [f] = await findings(syncmapCheckThenAct, 'var c sync.Map\n\nfunc build(int) int { return 1 }\n\nfunc g(k string, n int) {\n\tif _, ok := c.Load(k); !ok {\n\t\tc.Store(k, build(n))\n\t}\n}\n');
    assert.equal(f.fixes[0]?.title, 'Use LoadOrStore (build(n) now runs even when the key exists)');
  });

  it('is plain when the value is not computed', async () => {
    const [f] = await findings(syncmapCheckThenAct, 'func g(c *sync.Map, k string) {\n\tif _, ok := c.Load(k); !ok {\n\t\tc.Store(k, &struct{}{})\n\t}\n}\n');
    assert.equal(f.fixes[0]?.title, 'Use LoadOrStore');
  });

  it('offers no fix for an else if, which cannot become a call', async () => {
    const list = await findings(syncmapCheckThenAct, 'func g(c *sync.Map, k string, x bool) {\n\tif x {\n\t} else if _, ok := c.Load(k); !ok {\n\t\tc.Store(k, 1)\n\t}\n}\n');
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].fixes, []);
  });

  it('keeps a trailing comment and moves inner comments above', async () => {
    const out = await fixed(syncmapCheckThenAct, 'func g(c *sync.Map, k string) {\n\t_, ok := c.Load(k) // first\n\t// between\n\tif !ok {\n\t\tc.Store(k, 1) // inner\n\t}\n}\n');
    assert.equal(out, 'func g(c *sync.Map, k string) {\n\t// between\n\t// inner\n\tc.LoadOrStore(k, 1) // first\n}\n');
  });
});

describe('range-append-lost-update', () => {
  it('renames a blank key to a name unused in the whole function', async () => {
    const out = await fixed(rangeAppendLostUpdate, 'func g(m map[string][]int, k, k2 int) {\n\tfor _, v := range m {\n\t\tv = append(v, k+k2)\n\t}\n}\n');
    assert.match(out, /for k3, v := range m \{\n\t\tm\[k3\] = append\(v, k\+k2\)/);
  });

  it('offers no fix when ranging over a named type that is not a map or slice', async () => {
    const list = await findings(rangeAppendLostUpdate, 'type seq func(func(string, []int) bool)\n\nfunc g(it seq) {\n\tfor k, v := range it {\n\t\tprintln(k)\n\t\tv = append(v, 1)\n\t}\n}\n');
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].fixes, []);
  });
});

describe('nil-inner-map', () => {
  it('indents the inserted guard like the statement, with tabs', async () => {
    const out = await fixed(nilInnerMap, 'func g(keys []string) map[string]map[string]int {\n\tm := map[string]map[string]int{}\n\tfor _, k := range keys {\n\t\tif k != "" {\n\t\t\tm[k]["n"]++\n\t\t}\n\t}\n\treturn m\n}\n');
    assert.match(out, /\t\t\tif m\[k\] == nil \{\n\t\t\t\tm\[k\] = make\(map\[string\]int\)\n\t\t\t\}\n\t\t\tm\[k\]\["n"\]\+\+/);
  });

  it('offers no fix when the statement shares its line', async () => {
    const list = await findings(nilInnerMap, 'func g(x bool) {\n\tm := make(map[int]map[int]int)\n\tif x { m[1][2] = 3 }\n}\n');
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].fixes, []);
  });
});

describe('map-insert-during-range', () => {
  it('reports a write once, for the innermost loop over the map', async () => {
    const list = await findings(mapInsertDuringRange, 'func g(m map[int]int) {\n\tfor a := range m {\n\t\tfor range m {\n\t\t\tm[a+1] = 0\n\t\t}\n\t}\n}\n');
    assert.equal(list.length, 1);
  });
});

describe('range-append-lost-update through a pointer', () => {
  it('parenthesises a dereferenced range expression', async () => {
    const out = await fixed(rangeAppendLostUpdate, 'func g(p *[4][]int) {\n\tfor i, v := range *p {\n\t\tv = append(v, i)\n\t}\n}\n');
    assert.match(out, /\t\t\(\*p\)\[i\] = append\(v, i\)/);
  });

  it('sees a write-back through the parenthesised form', async () => {
    const list = await findings(rangeAppendLostUpdate, 'func g(p *[4][]int) {\n\tfor i, v := range *p {\n\t\tv = append(v, i)\n\t\t(*p)[i] = append((*p)[i], 0)\n\t}\n}\n');
    assert.equal(list.length, 0);
  });
});

describe('fixes in CRLF files', () => {
  it('insert CRLF line breaks', async () => {
    const p = await testParser();
    const text = 'package a\r\n\r\nfunc g() map[int]map[int]int {\r\n\tm := make(map[int]map[int]int)\r\n\tm[1][2] = 3\r\n\treturn m\r\n}\r\n';
    const out = await fixTexts(p, new Map([['/t/a.go', text]]), [nilInnerMap]);
    assert.equal(out.changed.get('/t/a.go')?.after, 'package a\r\n\r\nfunc g() map[int]map[int]int {\r\n\tm := make(map[int]map[int]int)\r\n\tif m[1] == nil {\r\n\t\tm[1] = make(map[int]int)\r\n\t}\r\n\tm[1][2] = 3\r\n\treturn m\r\n}\r\n');
  });
});
