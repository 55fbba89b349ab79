// Lock state: what is held where, through branches, loops, defers, helpers, callers and callbacks.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FunctionsFact } from '../server/src/engine/analysis/functions';
import { LockStateFact } from '../server/src/engine/analysis/lock-state';
import { testParser } from './support/engine';
import { testPackage } from './support/analysis';

/** Held lock texts (sorted) at `marker` in function `fn`, and the assumption if any. */
async function heldAt(src: string, fn: string, marker: string, proven = false): Promise<string[]> {
  const t = testPackage(await testParser(), src);
  try {
    const locks = t.facts.get(LockStateFact);
    const u = fn.startsWith('lit@') ? t.facts.get(FunctionsFact).unitAt(t.file, t.at(fn.slice(4)))! : t.unit(fn);
    const held = locks.heldAt(u, t.at(marker), proven);
    const out = [...held.locks.values()].map((h) => `${h.key.text}:${h.mode}`).sort();
    return held.assumed ? [...out, 'ASSUMED'] : out;
  } finally {
    t.dispose();
  }
}

const HEAD = `package p
import "sync"
type S struct {
	mu sync.Mutex
	rw sync.RWMutex
	n  int
}
`;

describe('lock state', () => {
  it('follows Lock/Unlock through branches and early returns', async () => {
    const src = HEAD + `
func (s *S) f(x bool) {
	s.mu.Lock()
	if x {
		s.mu.Unlock()
		return
	}
	s.n = 1 // A
	s.mu.Unlock()
	s.n = 2 // B
}`;
    assert.deepEqual(await heldAt(src, 'S.f', 's.n = 1'), ['s.mu:w']);
    assert.deepEqual(await heldAt(src, 'S.f', 's.n = 2'), []);
  });

  it('joins: held on one branch only is not held after it', async () => {
    const src = HEAD + `
func (s *S) f(x bool) {
	if x {
		s.mu.Lock()
	}
	s.n = 1
}`;
    assert.deepEqual(await heldAt(src, 'S.f', 's.n = 1'), []);
  });

  it('defer keeps the lock to the end; RLock is a read lock', async () => {
    const src = HEAD + `
func (s *S) f() int {
	s.rw.RLock()
	defer s.rw.RUnlock()
	for i := 0; i < 3; i++ {
		s.n += i
	}
	return s.n
}`;
    assert.deepEqual(await heldAt(src, 'S.f', 's.n += i'), ['s.rw:r']);
    assert.deepEqual(await heldAt(src, 'S.f', 'return s.n'), ['s.rw:r']);
  });

  it('a loop that unlocks at the end of its body starts each round unlocked', async () => {
    const src = HEAD + `
func (s *S) f(xs []int) {
	for _, x := range xs {
		s.n = x
		s.mu.Lock()
		s.n++
		s.mu.Unlock()
	}
}`;
    assert.deepEqual(await heldAt(src, 'S.f', 's.n = x'), []);
    assert.deepEqual(await heldAt(src, 'S.f', 's.n++'), ['s.mu:w']);
  });

  it('a lock right after a goto label is seen (C4)', async () => {
    const src = HEAD + `
func (s *S) f(x bool) {
	if x {
		goto done
	}
	s.n = 0
done:
	s.mu.Lock()
	s.n = 1
	s.mu.Unlock()
}`;
    assert.deepEqual(await heldAt(src, 'S.f', 's.n = 1'), ['s.mu:w']);
  });

  it('lock and unlock helpers change the caller\'s state', async () => {
    const src = HEAD + `
func (s *S) lock()   { s.mu.Lock() }
func (s *S) unlock() { s.mu.Unlock() }
func (s *S) f() {
	s.lock()
	s.n = 1
	s.unlock()
	s.n = 2
}`;
    assert.deepEqual(await heldAt(src, 'S.f', 's.n = 1'), ['s.mu:w']);
    assert.deepEqual(await heldAt(src, 'S.f', 's.n = 2'), []);
  });

  it('an unexported helper runs under the locks every caller holds (C3)', async () => {
    const src = HEAD + `
func (s *S) A() {
	s.mu.Lock()
	s.bump()
	s.mu.Unlock()
}
func (s *S) B() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bump()
}
func (s *S) bump() {
	s.n++
}`;
    assert.deepEqual(await heldAt(src, 'S.bump', 's.n++'), ['s.mu:w']);
  });

  it('a helper with one caller that does not lock holds nothing', async () => {
    const src = HEAD + `
func (s *S) A() {
	s.mu.Lock()
	s.bump()
	s.mu.Unlock()
}
func (s *S) B() { s.bump() }
func (s *S) bump() { s.n++ }`;
    assert.deepEqual(await heldAt(src, 'S.bump', 's.n++'), []);
  });

  it('…Locked names and doc comments say the caller holds the lock (C3)', async () => {
    const src = `package p
import "sync"
type One struct {
	mu sync.Mutex
	n  int
}
func (o *One) bumpLocked() { o.n++ }

// Lock should be held.
func (o *One) other() { o.n = 3 }

// isLocked reports nothing about callers.
func (o *One) isLocked() bool { return o.n > 0 }
` + HEAD.replace(/^package p\nimport "sync"\n/, '') + `
func (s *S) bumpLocked() { s.n++ }
`;
    assert.deepEqual(await heldAt(src, 'One.bumpLocked', 'o.n++'), ['o.mu:w'], 'the type\'s one mutex');
    assert.deepEqual(await heldAt(src, 'One.other', 'o.n = 3'), ['o.mu:w']);
    assert.deepEqual(await heldAt(src, 'One.isLocked', 'return o.n'), []);
    assert.deepEqual(await heldAt(src, 'S.bumpLocked', 's.n++'), ['ASSUMED'], 'two mutexes: which one is assumed');
    assert.deepEqual(await heldAt(src, 'One.bumpLocked', 'o.n++', true), [], 'proven: a name proves nothing');
  });

  it('doc comment names the mutex when the type has several', async () => {
    const src = HEAD + `
// reset clears the counter. s.mu must be held by the caller.
func (s *S) reset() { s.n = 0 }
// clear: caller must hold the lock.
func (s *S) clear() { s.n = 0 }
// must not be called with mu held.
func (s *S) free() { s.n = 0 }
`;
    assert.deepEqual(await heldAt(src, 'S.reset', 's.n = 0'), ['s.mu:w']);
    assert.deepEqual(await heldAt(src, 'S.clear', 's.n = 0 }\n// must'.slice(0, 7)), ['ASSUMED']);
    assert.deepEqual(await heldAt(src, 'S.free', 's.n = 0 }\n', ), []);
  });

  it('a first unlock means the caller holds it (…AndUnlock)', async () => {
    const src = HEAD + `
func (s *S) finishAndUnlock() {
	s.n = 1
	s.mu.Unlock()
	s.n = 2
}`;
    assert.deepEqual(await heldAt(src, 'S.finishAndUnlock', 's.n = 1'), ['s.mu:w']);
    assert.deepEqual(await heldAt(src, 'S.finishAndUnlock', 's.n = 2'), []);
  });

  it('a closure run by a helper that holds its lock runs under it (C3)', async () => {
    const src = HEAD + `
type buf struct {
	mu sync.Mutex
}
func (b *buf) executeAndPut(f func() bool) {
	b.mu.Lock()
	f()
	b.mu.Unlock()
}
func withLock(mu *sync.Mutex, f func()) {
	mu.Lock()
	defer mu.Unlock()
	f()
}
func (s *S) f(b *buf) {
	b.executeAndPut(func() bool {
		s.n++ // IN1
		return true
	})
	withLock(&s.mu, func() {
		s.n-- // IN2
	})
}`;
    assert.deepEqual(await heldAt(src, 'lit@func() bool {', 's.n++'), ['b.mu:w']);
    assert.deepEqual(await heldAt(src, 'lit@func() {\n\t\ts.n--', 's.n--'), ['s.mu:w']);
  });

  it('a goroutine literal starts with nothing held; a sort callback inherits', async () => {
    const src = HEAD + `
import "sort"
func (s *S) f(xs []int) {
	s.mu.Lock()
	go func() {
		s.n = 1
	}()
	sort.Slice(xs, func(i, j int) bool {
		return s.n > 0
	})
	s.mu.Unlock()
}`.replace('import "sync"', 'import "sync"');
    const fixed = src.replace('\nimport "sort"', '').replace('import "sync"', 'import (\n\t"sort"\n\t"sync"\n)');
    assert.deepEqual(await heldAt(fixed, 'lit@func() {', 's.n = 1'), []);
    assert.deepEqual(await heldAt(fixed, 'lit@func(i, j int)', 'return s.n > 0'), ['s.mu:w']);
    assert.deepEqual(await heldAt(fixed, 'lit@func(i, j int)', 'return s.n > 0', true), ['s.mu:w']);
  });

  it('embedded mutexes and anonymous mutex structs', async () => {
    const src = `package p
import "sync"
type E struct {
	sync.Mutex
	n int
}
type A struct {
	mu struct{ sync.RWMutex }
	n  int
}
func (e *E) f() {
	e.Lock()
	e.n = 1
	e.Unlock()
}
func (a *A) g() {
	a.mu.RLock()
	_ = a.n
	a.mu.RUnlock()
}`;
    assert.deepEqual(await heldAt(src, 'E.f', 'e.n = 1'), ['e.Mutex:w']);
    assert.deepEqual(await heldAt(src, 'A.g', '_ = a.n'), ['a.mu.RWMutex:r']);
  });

  it('a Cond built on an RLocker read-locks its mutex', async () => {
    const src = HEAD + `
type C struct {
	rw   sync.RWMutex
	cond *sync.Cond
	n    int
}
func newC() *C {
	c := &C{}
	c.cond = sync.NewCond(c.rw.RLocker())
	return c
}
func (c *C) wait() {
	c.cond.L.Lock()
	c.n++ // A
	c.cond.L.Unlock()
}`;
    assert.deepEqual(await heldAt(src, 'C.wait', 'c.n++'), ['c.rw:r']);
  });

  it('a lock reached through a local built around the caller\'s object is the caller\'s', async () => {
    const src = HEAD + `
type view struct{ src *S }
func newView(s *S) *view { return &view{src: s} }
func (v *view) read() int {
	v.src.mu.Lock()
	defer v.src.mu.Unlock()
	return v.src.n
}
func (s *S) viaConstructor() int {
	v := newView(s)
	return v.read()
}
func (s *S) viaLiteral() int {
	w := &view{src: s}
	return w.read()
}
func (s *S) rebuilt(o *S) int {
	v := newView(s)
	v = newView(o)
	return v.read()
}`;
    const t = testPackage(await testParser(), src);
    try {
      const locks = t.facts.get(LockStateFact);
      const taken = (fn: string) => [...locks.acquires(t.unit(fn)).values()].map((a) => a.key.id).sort();
      assert.deepEqual(taken('S.viaConstructor'), ['recv.mu']);
      assert.deepEqual(taken('S.viaLiteral'), ['recv.mu']);
      assert.ok(!taken('S.rebuilt').includes('recv.mu'));
    } finally {
      t.dispose();
    }
  });
});
