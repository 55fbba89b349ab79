package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Order is what clients POST to /orders; Item is one line of an order or a quote.
type Order struct {
	ID    string `json:"id"`
	Items []Item `json:"items"`
}

type Item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// orders is shared by every request.
// hazard: concurrent-map-access (handleOrders reads and writes it with no lock held)
var orders = make(map[string]Order)

func handleOrders(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		writeJSON(w, orders[r.URL.Query().Get("id")])
		return
	}
	var o Order
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil || o.ID == "" {
		http.Error(w, "bad order", http.StatusBadRequest)
		return
	}
	orders[o.ID] = o // hazard: concurrent-map-access
	w.WriteHeader(http.StatusCreated)
}

// Quote is a priced basket, cached for a minute.
type Quote struct {
	Total   float64   `json:"total"`
	ETag    string    `json:"etag"`
	Expires time.Time `json:"expires"`
}

// safe: a shared map whose every access holds mu.
type quoteCache struct {
	mu sync.Mutex
	m  map[string]Quote
}

var quotes = &quoteCache{m: make(map[string]Quote)}

func (c *quoteCache) get(key string) (Quote, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.m[key]
	return q, ok && time.Now().Before(q.Expires)
}

func (c *quoteCache) put(key string, q Quote) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = q
}

// GC drops expired quotes and returns how many it removed.
// safe: a method named GC on our own type, not runtime.GC.
func (c *quoteCache) GC(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, q := range c.m {
		if now.After(q.Expires) {
			delete(c.m, k)
			n++
		}
	}
	return n
}
