package main

import (
	"net/http"
	"runtime"
	"sync/atomic"
)

// requests counts every request the server has handled.
// hazard: non-atomic-counter (incremented from concurrent handlers)
var requests int

// failedQuotes is incremented from handlers as well.
// safe: an atomic counter.
var failedQuotes atomic.Int64

func countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++ // hazard: non-atomic-counter
		next.ServeHTTP(w, r)
	})
}

func handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]int{
		"requests":      requests,
		"failed_quotes": int(failedQuotes.Load()),
		"gomaxprocs":    runtime.GOMAXPROCS(0), // safe: GOMAXPROCS(0) only reads the setting
		"goroutines":    runtime.NumGoroutine(),
	})
}
