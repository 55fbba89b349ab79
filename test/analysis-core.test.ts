// The analysis core below the rules: types-lite's new forms, the call graph (methods, promoted
// methods, interfaces, function values, library models), goroutine roots, and happens-before.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CallGraphFact } from '../server/src/engine/analysis/callgraph';
import { FunctionsFact } from '../server/src/engine/analysis/functions';
import { GoroutinesFact } from '../server/src/engine/analysis/goroutines';
import { HappensBeforeFact } from '../server/src/engine/analysis/happens-before';
import { classify, mayBeWrittenAt } from '../server/src/engine/analysis/shared-state';
import { SourceFile } from '../server/src/engine/source-file';
import { typeOfExpr } from '../server/src/engine/types';
import { testParser } from './support/engine';
import { testPackage, type TestPackage } from './support/analysis';

async function withPackage(src: string, body: (t: TestPackage) => void): Promise<void> {
  const t = testPackage(await testParser(), src);
  try {
    body(t);
  } finally {
    t.dispose();
  }
}

/** The type text types-lite gives the identifier at the `n`-th occurrence of `marker`. */
function typeAt(t: TestPackage, marker: string, n = 0): string | undefined {
  const at = t.at(marker, n);
  const id = t.file.root.descendantForIndex(at, at + /^\w+/.exec(marker)![0].length);
  return id ? typeOfExpr(id, t.file, t.pkg)?.text : undefined;
}

describe('types-lite', () => {
  it('knows comma-ok forms, range variables, literals, method results and promoted fields', async () => {
    await withPackage(`package p
import "sync"
type Conf struct{ n int }
type Base struct {
	sync.Mutex
	conf *Conf
}
type Server struct {
	Base
	mu    struct{ sync.RWMutex }
	byKey map[string]*Conf
}
func (s *Server) current() *Conf { return s.conf }
var limit = 1000
func f(s *Server, ch chan *Conf, xs []*Conf) {
	c1, ok := s.byKey["a"]
	c2, ok2 := <-ch
	for i, c3 := range xs {
		_, _ = i, c3
	}
	c4 := s.current()
	c5 := s.conf
	_, _, _, _, _, _, _ = c1, ok, c2, ok2, c4, c5, limit
}`, (t) => {
      assert.equal(typeAt(t, 'c1', 1), '*Conf');
      assert.equal(typeAt(t, 'ok, c2'), 'bool');
      assert.equal(typeAt(t, 'c2', 1), '*Conf');
      assert.equal(typeAt(t, 'ok2', 1), 'bool');
      assert.equal(typeAt(t, 'c3', 1), '*Conf');
      assert.equal(typeAt(t, 'i, c3', 1)?.toString(), 'int');
      assert.equal(typeAt(t, 'c4', 1), '*Conf', 'a method call result');
      assert.equal(typeAt(t, 'c5', 1), '*Conf', 'a field promoted from Base');
      assert.equal(typeAt(t, 'limit', 1), 'int', 'var limit = 1000');
    });
  });
});

describe('call graph', () => {
  it('resolves methods, promoted methods, interfaces, function values and once.Do', async () => {
    await withPackage(`package p
import "sync"
type Runner interface{ Run() }
type A struct{}
func (A) Run() {}
type B struct{ A }
type job struct{ fn func() }
func helper() {}
func (b *B) start() {}
func use(r Runner, b *B, j job, once *sync.Once, f func()) {
	r.Run()
	b.Run()
	j.fn()
	once.Do(helper)
	g := b.start
	g()
	f()
}
func caller(b *B) {
	use(A{}, b, job{fn: helper}, nil, b.start)
}`, (t) => {
      const cg = t.facts.get(CallGraphFact);
      const edges = cg.callsIn(t.unit('use')).map((e) => `${e.call.text.split('(')[0]}->${e.callee.label}:${e.how}`).sort();
      assert.deepEqual(edges, [
        'b.Run->A.Run:static',
        'f->B.start:value',
        'g->B.start:value',
        'j.fn->helper:value',
        'once.Do->helper:callback',
        'r.Run->A.Run:interface',
      ]);
    });
  });
});

describe('goroutines', () => {
  it('finds spawns, loop spawns, handlers and the server start they wait for', async () => {
    await withPackage(`package p
import "net/http"
type S struct{ n int }
func (s *S) work() {}
func (s *S) ServeHTTP(w http.ResponseWriter, r *http.Request) {}
func (s *S) Start(items []int) {
	go s.work()
	for range items {
		go func() {}()
	}
	srv := &http.Server{Handler: s}
	go srv.ListenAndServe()
}`, (t) => {
      const g = t.facts.get(GoroutinesFact);
      const roots = g.roots.filter((r) => r.kind !== 'api').map((r) => `${r.kind}:${r.unit.label}:${r.self}:${r.site ? t.file.positionAt(r.site.startIndex).line : '-'}`).sort();
      assert.deepEqual(roots, [
        'goroutine:S.work:false:6',
        'goroutine:a function literal in S.Start:true:8',
        'handler:S.ServeHTTP:true:11',
      ]);
    });
  });
});

describe('happens-before', () => {
  const SRC = `package p
import "sync"
type S struct{ a, b, c, d int }
func (s *S) run(wg *sync.WaitGroup) { defer wg.Done(); s.a++ }
func (s *S) Start() {
	s.a = 1 // before
	var wg sync.WaitGroup
	wg.Add(1)
	go s.run(&wg)
	s.b = 2 // during
	wg.Wait()
	s.c = 3 // after
	done := make(chan struct{})
	go func() {
		s.d = 4
		close(done)
	}()
	<-done
	s.d = 5 // after the close
}`;

  it('orders program order before a spawn, and code after joins (wg.Wait, a received close)', async () => {
    await withPackage(SRC, (t) => {
      const hb = t.facts.get(HappensBeforeFact);
      const g = t.facts.get(GoroutinesFact).roots.filter((r) => r.kind === 'goroutine');
      const run = g.find((r) => r.unit.name === 'run')!;
      const lit = g.find((r) => r.unit.isLiteral)!;
      const start = t.unit('S.Start');
      assert.equal(hb.orderAgainst(start, t.at('s.a = 1'), run), 'before');
      assert.equal(hb.orderAgainst(start, t.at('s.b = 2'), run), 'concurrent');
      assert.equal(hb.orderAgainst(start, t.at('s.c = 3'), run), 'after');
      assert.equal(hb.orderAgainst(start, t.at('s.d = 5'), lit), 'after');
      assert.equal(hb.rootsOrdered(run, lit), true, 'run is joined before the literal starts');
    });
  });

  it('puts configuration methods before the goroutines their type starts (lifecycle)', async () => {
    await withPackage(`package p
import "sync"
type P struct {
	mu sync.Mutex
	n  int
}
func (p *P) Init() { p.n = 1 }
func (p *P) Start() { go p.loop() }
func (p *P) Update() { p.n = 2 }
func (p *P) loop() { p.mu.Lock(); p.mu.Unlock() }`, (t) => {
      const hb = t.facts.get(HappensBeforeFact);
      const loop = t.facts.get(GoroutinesFact).roots.find((r) => r.unit.name === 'loop')!;
      assert.equal(hb.lifecycleBefore(t.unit('P.Init'), loop), true);
      assert.equal(hb.lifecycleBefore(t.unit('P.Update'), loop), false);
    });
  });

  it('says which goroutines may synchronise by a shared channel, WaitGroup, context or atomic name', async () => {
    await withPackage(`package p
import "context"
type W struct{ ready chan struct{}; n int }
func (w *W) load() { w.n = 1; close(w.ready) }
func (w *W) use() { select { case <-w.ready: } }
func (w *W) tick() { w.n = 2 }
func (w *W) watch(ctx context.Context) { <-ctx.Done() }
func (w *W) stop(cancel func()) { cancel() }
func (w *W) Start(ctx context.Context, cancel func()) {
	go w.load()
	go w.use()
	go w.tick()
	go w.watch(ctx)
	go w.stop(cancel)
}
`, (t) => {
      const hb = t.facts.get(HappensBeforeFact);
      const g = t.facts.get(GoroutinesFact);
      const root = (name: string) => g.roots.find((r) => r.unit.name === name)!;
      assert.deepEqual(g.unitsOf(root('load')).map((u) => u.name), ['load']);
      assert.equal(hb.mayCommunicate(root('load'), root('use')), true, 'close(w.ready) and <-w.ready');
      assert.equal(hb.mayCommunicate(root('watch'), root('stop')), true, 'cancel() and <-ctx.Done()');
      assert.equal(hb.mayCommunicate(root('load'), root('tick')), false);
      assert.equal(hb.mayCommunicate(root('use'), root('watch')), false, 'case <- is a receive, not a send on `case`');
    });
  });

  it('sees a value published through an atomic flag', async () => {
    await withPackage(`package p
import "sync/atomic"
var ready atomic.Bool
var cfg *int
func writer() {
	v := 1
	cfg = &v
	ready.Store(true)
}
func reader() int {
	if ready.Load() {
		return *cfg
	}
	return 0
}`, (t) => {
      const hb = t.facts.get(HappensBeforeFact);
      const fns = t.facts.get(FunctionsFact);
      const at = t.at('*cfg') + 1;
      const node = t.file.root.descendantForIndex(at, at + 3);
      assert.equal(hb.publishedBefore({ unit: t.unit('writer'), offset: t.at('cfg = &v') }, { unit: fns.unitAt(t.file, at)!, node: node! }), true);
    });
  });
});

describe('shared state', () => {
  it('mayBeWrittenAt says yes to every write classify finds, in every fixture, and no to plain reads', async () => {
    const p = await testParser();
    const dir = path.join(__dirname, '..', '..', 'test', 'fixtures');
    const goFiles = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? goFiles(path.join(d, e.name)) : e.name.endsWith('.go') ? [path.join(d, e.name)] : []));
    let writes = 0;
    for (const f of goFiles(dir)) {
      const file = SourceFile.parse(p, f, fs.readFileSync(f, 'utf8'));
      try {
        for (const id of file.root.descendantsOfType('identifier')) {
          if (!id || !classify(id).write) continue;
          writes++;
          assert.ok(mayBeWrittenAt(file.text, id.startIndex, id.endIndex), `${f}:${file.positionAt(id.startIndex).line + 1}: ${id.parent?.text}`);
        }
      } finally {
        file.dispose();
      }
    }
    assert.ok(writes > 100, `only ${writes} writes seen`);
    const reads = ['if n == 3 {', 'f(n)', 'return n', 'x := n.field', 'g(&n)', 'n.mu.Lock()', 'm[k] = n'];
    for (const text of reads) assert.equal(mayBeWrittenAt(text, text.lastIndexOf('n'), text.lastIndexOf('n') + 1), false, text);
    const maybe = ['n = 3', 'n += 1', 'n <<= 2', 'n &^= m', 'n++', 'n, err = f()', 'n[k] = v', 'delete(n, k)', 'clear( n)'];
    for (const text of maybe) assert.equal(mayBeWrittenAt(text, text.search(/\bn\b/), text.search(/\bn\b/) + 1), true, text);
  });
});
