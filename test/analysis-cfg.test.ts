// The control-flow graph: every Go statement form, as reachability between marked statements.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCfg, type Cfg } from '../server/src/engine/analysis/cfg';
import { testParser } from './support/engine';
import { testPackage } from './support/analysis';

interface Query {
  cfg: Cfg;
  reaches(from: string, to: string): boolean;
  kind(marker: string): string | undefined;
  /** The text at the start of each successor of the node at `marker`. */
  next(marker: string): string[];
}

async function withCfg(src: string, fn: string, body: (q: Query) => void): Promise<void> {
  const t = testPackage(await testParser(), src);
  try {
    const cfg = buildCfg(t.unit(fn));
    const node = (m: string) => {
      const n = cfg.nodeAt(t.at(m));
      if (!n) throw new Error(`no flow node at ${m}`);
      return n;
    };
    body({
      cfg,
      reaches: (from, to) => {
        const f = node(from);
        return !!cfg.reachableFrom(f.succ)[to === 'EXIT' ? cfg.exit : to === 'ABORT' ? cfg.abort : node(to).id];
      },
      kind: (m) => cfg.nodeAt(t.at(m))?.kind,
      next: (m) => node(m).succ.map((id) => src.slice(cfg.nodes[id].start, cfg.nodes[id].start + 7)),
    });
  } finally {
    t.dispose();
  }
}

describe('control-flow graph', () => {
  it('if/else, return, and falling off the end', async () => {
    await withCfg(`package p
func f(x int) int {
	a := 1
	if x > 0 {
		b := 2
		return b
	} else if x < 0 {
		c := 3
		_ = c
	} else {
		d := 4
		_ = d
	}
	e := 5
	return e
}`, 'f', ({ reaches, kind }) => {
      assert.equal(kind('x > 0'), 'cond');
      assert.ok(reaches('a := 1', 'b := 2'));
      assert.ok(reaches('b := 2', 'EXIT'));
      assert.ok(!reaches('b := 2', 'e := 5'), 'return leaves the function');
      assert.ok(reaches('c := 3', 'e := 5'));
      assert.ok(reaches('d := 4', 'e := 5'));
      assert.ok(!reaches('c := 3', 'd := 4'));
      assert.ok(!reaches('e := 5', 'a := 1'));
    });
  });

  it('the three for forms and range, with break, continue and back edges', async () => {
    await withCfg(`package p
func f(xs []int) {
	for i := 0; i < 3; i++ {
		a := i
		if a == 1 {
			continue
		}
		b := a
		_ = b
	}
	for len(xs) > 0 {
		c := 1
		break
	}
	for {
		d := 1
		if d > 0 {
			break
		}
	}
	for _, x := range xs {
		e := x
		_ = e
	}
	z := 0
	_ = z
}`, 'f', ({ reaches }) => {
      assert.ok(reaches('b := a', 'a := i'), 'back edge through the update');
      assert.ok(reaches('continue', 'i++'));
      assert.ok(!reaches('c := 1', 'c := 1'), 'break: no back edge');
      assert.ok(reaches('d := 1', 'd := 1'), 'for {} loops');
      assert.ok(reaches('d := 1', 'e := x'), 'break leaves the endless loop');
      assert.ok(reaches('e := x', 'e := x'));
      assert.ok(reaches('e := x', 'z := 0'));
    });
  });

  it('an endless loop with no break never reaches the code after it', async () => {
    await withCfg(`package p
func f(ch chan int) {
	for {
		v := <-ch
		_ = v
	}
	after := 1
	_ = after
}`, 'f', ({ reaches }) => {
      assert.ok(!reaches('v := <-ch', 'EXIT'));
    });
  });

  it('labelled break and continue, goto and labels', async () => {
    await withCfg(`package p
func f(m [][]int) {
outer:
	for _, row := range m {
		for _, v := range row {
			if v < 0 {
				continue outer
			}
			if v == 0 {
				break outer
			}
			inner := v
			_ = inner
		}
		rowEnd := 1
		_ = rowEnd
	}
	n := 0
	if n > 1 {
		goto done
	}
	mid := 2
	_ = mid
done:
	last := 3
	_ = last
}`, 'f', ({ reaches, next }) => {
      assert.deepEqual(next('continue outer'), ['_, row '], 'continue outer goes to the outer range head');
      assert.ok(!reaches('break outer', 'rowEnd := 1'), 'break outer skips the rest of the outer body');
      assert.ok(reaches('break outer', 'n := 0'));
      assert.ok(reaches('goto done', 'last := 3'));
      assert.ok(!reaches('goto done', 'mid := 2'));
      assert.ok(reaches('mid := 2', 'last := 3'));
    });
  });

  it('switch with fallthrough and default, type switch, select', async () => {
    await withCfg(`package p
func f(x int, v any, a, b chan int) {
	switch x {
	case 1:
		one := 1
		_ = one
		fallthrough
	case 2:
		two := 2
		_ = two
	case 3:
		three := 3
		_ = three
		break
	}
	sw := 0
	_ = sw
	switch v.(type) {
	case int:
		i := 0
		_ = i
	default:
		d := 0
		_ = d
	}
	select {
	case got := <-a:
		_ = got
	case b <- 1:
		sent := 1
		_ = sent
	}
	end := 0
	_ = end
}`, 'f', ({ reaches, kind }) => {
      assert.ok(reaches('one := 1', 'two := 2'), 'fallthrough');
      assert.ok(!reaches('two := 2', 'three := 3'));
      assert.ok(reaches('three := 3', 'sw := 0'));
      assert.ok(reaches('case 3', 'sw := 0'));
      assert.ok(!reaches('i := 0', 'd := 0'));
      assert.equal(kind('got := <-a'), 'cond');
      assert.ok(reaches('got := <-a', 'end := 0'));
      assert.ok(reaches('sent := 1', 'end := 0'));
    });
  });

  it('calls that never return end their path at abort', async () => {
    await withCfg(`package p
import ("log"; "os"; "testing")
func f(t *testing.T, x int) {
	if x == 1 {
		panic("no")
	}
	if x == 2 {
		os.Exit(1)
	}
	if x == 3 {
		log.Fatalf("x")
	}
	if x == 4 {
		t.Fatal("x")
	}
	ok := 1
	_ = ok
}`, 'f', ({ reaches }) => {
      assert.ok(reaches('panic("no")', 'ABORT'));
      assert.ok(!reaches('panic("no")', 'EXIT'));
      assert.ok(!reaches('os.Exit(1)', 'ok := 1'));
      assert.ok(!reaches('log.Fatalf', 'ok := 1'));
      assert.ok(!reaches('t.Fatal', 'EXIT'));
    });
  });

  it('go and defer are nodes of their own; ops come in evaluation order', async () => {
    const t = testPackage(await testParser(), `package p
import "sync"
func f(mu *sync.Mutex, ch chan int) {
	mu.Lock()
	defer mu.Unlock()
	go g(h())
	ch <- k(1)
}
func g(int) {}
func h() int { return 0 }
func k(int) int { return 0 }`);
    try {
      const cfg = buildCfg(t.unit('f'));
      assert.equal(cfg.nodeAt(t.at('defer'))?.kind, 'defer');
      assert.equal(cfg.nodeAt(t.at('go g'))?.kind, 'go');
      const goNode = cfg.nodeAt(t.at('go g'))!;
      assert.deepEqual(cfg.ops(goNode).map((o) => [o.syntax.text, o.role ?? '']), [['h()', ''], ['g(h())', 'go']]);
      const send = cfg.nodeAt(t.at('ch <-'))!;
      assert.deepEqual(cfg.ops(send).map((o) => [o.kind, o.syntax.text]), [['call', 'k(1)'], ['send', 'ch <- k(1)']]);
    } finally {
      t.dispose();
    }
  });
});
