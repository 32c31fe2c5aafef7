package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// app is the example's Service, store and HTTP handler.
type app struct {
	store     store.Store
	storeDesc string
	svc       *parley.Service
	handler   http.Handler
	worker    *notify.Worker
}

// newApp opens the store at path, seeds it and builds the handler.
func newApp(ctx context.Context, path string, d delivery, logger *slog.Logger) (*app, error) {
	st, desc, err := openStore(ctx, path)
	if err != nil {
		return nil, err
	}
	a, err := build(ctx, st, d, logger)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	a.storeDesc = desc
	return a, nil
}

// build makes the app over st. Notifications go through the store's
// outbox: each is written in the transaction of the change that causes
// it, and the app's worker delivers it.
func build(ctx context.Context, st store.Store, d delivery, logger *slog.Logger) (*app, error) {
	wd := world()
	svc, err := parley.New(st, parley.Options{Logger: logger, Outbox: true, DigestWindow: d.digest, World: wd})
	if err != nil {
		return nil, err
	}
	if err := seed(ctx, svc); err != nil {
		return nil, err
	}
	all, err := api(svc, logger)
	if err != nil {
		return nil, err
	}
	n, err := d.notifier(wd, logger)
	if err != nil {
		return nil, err
	}
	w, err := d.worker(st, n, logger)
	if err != nil {
		return nil, err
	}
	return &app{store: st, svc: svc, handler: accessLog(logger, all), worker: w}, nil
}

// Close closes the store.
func (a *app) Close() error { return a.store.Close() }

// accessLog logs every request: method, path, status, duration and the
// request id that the API put in the X-Request-Id header.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
			slog.String("request_id", w.Header().Get("X-Request-Id")))
	})
}

// statusRecorder remembers the status a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
