// A small HTTP service with the hazards the end-to-end suite expects racelens to flag and fix.
// test/e2e/run.mjs finds lines by their text: keep the marked statements unique.
package main

import (
	"fmt"
	"log"
	"net/http"
	"runtime"
	"time"
)

// Config is reloaded in the background while handlers read it.
type Config struct {
	Limit int
	Name  string
}

var cfg = &Config{Limit: 10, Name: "default"}

// hits counts requests per path; every handler shares it.
var hits = make(map[string]int)

// visits is filled before the server starts and only read afterwards.
var visits = map[string]int{"/": 0}

func reload() {
	for range time.Tick(5 * time.Second) {
		next := &Config{Limit: 20, Name: "reloaded"}
		cfg = next
	}
}

func count(w http.ResponseWriter, r *http.Request) {
	hits[r.URL.Path]++
	fmt.Fprintf(w, "%d hits, %d visits\n", hits[r.URL.Path], visits[r.URL.Path])
}

func limit(w http.ResponseWriter, r *http.Request) {
	if cfg.Limit > 5 {
		w.WriteHeader(http.StatusTooManyRequests)
	}
	fmt.Fprintln(w, cfg.Name)
}

func compact(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
	w.WriteHeader(http.StatusNoContent)
}

func main() {
	go reload()
	startJobs()
	http.HandleFunc("/count", count)
	http.HandleFunc("/limit", limit)
	http.HandleFunc("/compact", compact)
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}
