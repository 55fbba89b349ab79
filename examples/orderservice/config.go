package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"time"
)

// Config is reloaded from disk while the service runs.
type Config struct {
	Addr           string  `json:"addr"`
	MaxItems       int     `json:"max_items"`
	QuoteTimeoutMS int     `json:"quote_timeout_ms"`
	TaxRate        float64 `json:"tax_rate"`
}

// cfg is read by every handler and by the pricing goroutines.
// hazard: shared-var-swap (watchConfig replaces the pointer with no lock or atomic)
var cfg *Config

func loadConfig(path string) (*Config, error) {
	c := &Config{Addr: ":8080", MaxItems: 50, QuoteTimeoutMS: 200, TaxRate: 0.2}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, c)
	}
	return c, err
}

// watchConfig reloads the configuration file every interval until ctx ends.
func watchConfig(ctx context.Context, path string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if next, err := loadConfig(path); err != nil {
				log.Printf("config reload: %v", err)
			} else {
				cfg = next // hazard: shared-var-swap
			}
		}
	}
}
