package main

import (
	"crypto/subtle"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// password is the one password this demonstration accepts.
const password = "opensesame"

// newRouter builds an application whose POST /login allows 3 failed
// attempts a minute per client: chilimit.DeductWhen counts a request only
// when the handler answered 401. Every attempt is tested first, so once 3
// have failed even the right password gets 429 until the window ends.
// Attempts in flight are not counted yet, so a second limit counts every
// attempt: it bounds a client that sends many at once to 10 a minute.
// opts are added after the example's own options. The caller closes the
// Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(opts...)
	if err != nil {
		return nil, nil, err
	}
	failed := chilimit.DeductWhen(func(_ *http.Request, status int) bool {
		return status == http.StatusUnauthorized
	})
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("3/minute", failed), chilimit.Limit("10/minute")).Post("/login", login)
	return r, lim, nil
}

func login(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("password")), []byte(password)) != 1 {
		http.Error(w, "wrong password", http.StatusUnauthorized)
		return
	}
	_, _ = w.Write([]byte("welcome\n"))
}
