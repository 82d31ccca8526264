package chilimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
)

// The Handler records a request's state in the handoff table only where a
// middleware not of this package runs between it and the route's markers:
// only such a middleware can hide the writer from them.
func TestHideableRoutes(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	foreign := func(next http.Handler) http.Handler { return next }
	ok := func(http.ResponseWriter, *http.Request) {}
	r := chi.NewRouter()
	r.Use(foreign) // before the Handler: it wraps the writer rw wraps
	r.Use(l.Handler)
	r.With(Limit("10/second")).Get("/plain", ok)
	r.With(foreign, Limit("10/second")).Get("/with", ok)
	r.With(Limit("10/second"), foreign).Get("/after", ok) // after every marker: hides none, still counted
	r.Route("/group", func(r chi.Router) {
		r.Use(foreign)
		r.With(Limit("10/second")).Get("/x", ok)
	})
	r.Method(http.MethodGet, "/direct", Limit("10/second")(http.HandlerFunc(ok)))
	bare := chi.NewRouter() // no Handler the index can see
	bare.With(Limit("10/second")).Get("/plain", ok)

	for _, tt := range []struct {
		r    chi.Router
		path string
		want bool
	}{
		{r, "/plain", false},
		{r, "/with", true},
		{r, "/after", true},
		{r, "/group/x", true},
		{r, "/direct", false},
		{bare, "/plain", true},
	} {
		rctx := chi.NewRouteContext()
		rctx.Routes = tt.r
		req := httptest.NewRequest(http.MethodGet, tt.path, nil)
		req = req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, rctx))
		_, e, _, _ := l.lookup(req)
		if e == nil || len(e.all) == 0 {
			t.Fatalf("%s: lookup found no route limits", tt.path)
		}
		if e.hideable != tt.want {
			t.Errorf("%s: hideable = %v, want %v", tt.path, e.hideable, tt.want)
		}
	}
}
