// Command orderservice is a small order API used as a racelens example.
// Each deliberate hazard is marked "hazard: <rule-id>"; code the rules must
// leave alone is marked "safe:". Do not copy it into a real service.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	tuneRuntime()

	path := os.Getenv("ORDERS_CONFIG")
	c, err := loadConfig(path)
	if err != nil {
		log.Fatalf("config: %v", err)
	}
	cfg = c

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if path != "" {
		go watchConfig(ctx, path, 30*time.Second)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/orders", handleOrders)
	mux.HandleFunc("/quote", handleQuote)
	mux.HandleFunc("/admin/gc", handleAdminGC)
	mux.HandleFunc("/admin/stats", handleStats)
	srv := &http.Server{Addr: c.Addr, Handler: countRequests(mux), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// handleQuote prices a basket, answering from the quote cache when it can.
func handleQuote(w http.ResponseWriter, r *http.Request) {
	var items []Item
	if err := json.NewDecoder(r.Body).Decode(&items); err != nil || len(items) == 0 || len(items) > cfg.MaxItems {
		http.Error(w, fmt.Sprintf("want a JSON array of 1 to %d items", cfg.MaxItems), http.StatusBadRequest)
		return
	}
	key := fmt.Sprint(items)
	if q, ok := quotes.get(key); ok {
		writeJSON(w, q)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(cfg.QuoteTimeoutMS)*time.Millisecond)
	defer cancel()
	total, err := priceQuote(ctx, items)
	if err != nil {
		http.Error(w, "pricing backend too slow", http.StatusGatewayTimeout)
		return
	}
	q := Quote{Total: total, ETag: fmt.Sprintf("%016x", priceBits(total)), Expires: time.Now().Add(time.Minute)}
	quotes.put(key, q)
	writeJSON(w, q)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
