package main

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// apiError is the body of every error response.
type apiError struct {
	Error      string `json:"error"`
	Limit      string `json:"limit,omitempty"`
	RetryAfter int64  `json:"retry_after_seconds,omitempty"`
}

// writeError is the limiter's error handler: 429 with the breached limit
// and the seconds until it has room again, or 503 when the storage failed.
func writeError(w http.ResponseWriter, _ *http.Request, err error) {
	w.Header().Set("Content-Type", "application/json")
	var rle *chilimit.RateLimitError
	if !errors.As(err, &rle) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(apiError{Error: "rate limiter unavailable"})
		return
	}
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(apiError{
		Error:      rle.Message,
		Limit:      rle.Limit.String(),
		RetryAfter: int64(math.Ceil(rle.RetryAfter().Seconds())),
	})
}

// newRouter builds an API with default limits of 2 per minute whose 429
// responses are JSON (chilimit.WithErrorHandler). POST /api/upload has its
// own limit of 1 per hour with a custom message (chilimit.ErrorMessage),
// which the handler finds in RateLimitError.Message. opts are added after
// the example's own options. The caller closes the Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithDefaultLimits("2/minute"),
		chilimit.WithErrorHandler(writeError),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/api/items", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`["a","b"]` + "\n"))
	})
	r.With(chilimit.Limit("1/hour", chilimit.ErrorMessage("one upload an hour"))).Post("/api/upload", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	return r, lim, nil
}
