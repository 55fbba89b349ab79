package main

import (
	"context"
	"time"
	"unsafe"
)

// unitPrice is filled before the server starts and only read afterwards.
// safe: a shared map that is never written concurrently.
var unitPrice = map[string]float64{"apple": 0.40, "bread": 2.10, "coffee": 7.50}

// priceQuote asks the slow pricing backend and gives up at the request deadline.
func priceQuote(ctx context.Context, items []Item) (float64, error) {
	result := make(chan float64) // hazard: goroutine-leak-send (unbuffered)
	go func() {
		result <- computePrice(items) // blocks forever once priceQuote has returned
	}()
	select {
	case total := <-result:
		return total, nil
	case <-ctx.Done():
		failedQuotes.Add(1)
		return 0, ctx.Err()
	}
}

// computePrice stands in for a call to the pricing backend.
func computePrice(items []Item) float64 {
	time.Sleep(time.Duration(len(items)) * 50 * time.Millisecond)
	var sum float64
	for _, it := range items {
		sum += unitPrice[it.SKU] * float64(it.Qty)
	}
	return sum * (1 + cfg.TaxRate)
}

// priceBits turns a price into the bits used for the quote's ETag.
func priceBits(price float64) uint64 {
	return *(*uint64)(unsafe.Pointer(&price)) // hazard: unsafe-pointer-cast
}
