package main

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"time"
)

// tuneRuntime applies settings copied from an old load test. It runs once at
// start-up, but from a helper: the rules do not treat it as main or init.
func tuneRuntime() {
	runtime.GOMAXPROCS(2)  // hazard: gomaxprocs-hardcoded
	debug.SetGCPercent(-1) // hazard: gc-disabled
}

// handleAdminGC lets operators "give memory back" after a traffic spike.
func handleAdminGC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	evicted := quotes.GC(time.Now()) // safe: our own GC method
	runtime.GC()                     // hazard: manual-gc
	debug.FreeOSMemory()             // hazard: manual-gc

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeJSON(w, map[string]uint64{"evicted_quotes": uint64(evicted), "heap_alloc": ms.HeapAlloc})
}
