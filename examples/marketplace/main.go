// Command marketplace is Parley's example server: the three HTTP dialects
// (seed 000's API, seed 002's chat API and seed 001's guest-messaging API)
// through one kit handler over a store file, with the marketplace's own
// world in memory (three users, two shops, two products, two order items:
// world.go), a few demo conversations and demo tokens to call it with.
//
//	go run ./examples/marketplace [-addr 127.0.0.1:8080] [-db parley-demo.db]
//
// The tokens it prints are for this demo only: a real program
// authenticates its callers its own way (see httpapi.Authenticator).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "marketplace:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down within shutdownTimeout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("marketplace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	db := fs.String("db", "parley-demo.db", "store file")
	var d delivery
	d.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	app, err := newApp(ctx, *db, d, logger)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	printBanner(stdout, base, app.storeDesc)

	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Event streams never finish by themselves: Shutdown ends them.
	srv.RegisterOnShutdown(app.api.EndStreams)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// The delivery worker stops with ctx; a delivery it had begun is
	// marked done or failed before it returns.
	wctx, stopWorker := context.WithCancel(ctx)
	delivered := make(chan error, 1)
	go func() { delivered <- app.worker.Run(wctx) }()
	defer func() { stopWorker(); <-delivered }()
	// Long polls and event streams wake for what other processes write to
	// the database too.
	lctx, stopListen := context.WithCancel(ctx)
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		if err := app.svc.Listen(lctx); err != nil && lctx.Err() == nil {
			logger.Error("listen for other processes' messages", slog.Any("error", err))
		}
	}()
	defer func() { stopListen(); <-listened }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

const shutdownTimeout = 10 * time.Second

func printBanner(w io.Writer, base, storeDesc string) {
	fmt.Fprintf(w, "Parley marketplace example on %s (%s):\n", base, storeDesc)
	fmt.Fprintln(w, "  seed 000's API        /users/, /api/v1/remote/1/, /public-questions/  (OpenAPI: /api/v1/openapi.json)")
	fmt.Fprintln(w, "  seed 002's chat API   /api/v2/chat/                                   (OpenAPI: /api/v2/chat/openapi.json)")
	fmt.Fprintln(w, "  seed 001's guest API  /API/V40/Interactive/Messages/                  (OpenAPI: /API/V40/Interactive/Messages/openapi.json)")
	fmt.Fprintln(w, "  operators' API        /operator/v1/                                   (OpenAPI: /operator/v1/openapi.json)")
	fmt.Fprintf(w, "  demo inbox page       %s/demo/  (live: open it twice, as a buyer and as a seller)\n", base)
	fmt.Fprintln(w, "World (world.go): users 545382 Ada Demir, 545383 Sinan Kaya, guest 1001; shops 1 Test Shop, 2 Sin's Shop;")
	fmt.Fprintln(w, "  products 1 (TV, base code Q800T), 2 (soundbar, HWQ990); order items 1 (ORD-1001), 2 (ORD-1002).")
	fmt.Fprintln(w, "  Starts naming anyone or anything else are refused.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "DEMO TOKENS: for this example only; never use fixed tokens in a real deployment.")
	for _, t := range demoTokens() {
		fmt.Fprintf(w, "  Authorization: Token %-18s %s\n", t.token, t.who)
	}
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  curl -s %s/users/conversations/ -H 'Authorization: Token demo-user-545382'\n", base)
	fmt.Fprintf(w, "  curl -s '%s/api/v1/remote/1/conversations/?product_base_code=Q800T' -H 'Authorization: Token demo-channel-1'\n", base)
	fmt.Fprintf(w, "  curl -s %s/api/v2/chat/conversations -H 'Authorization: Token demo-seller-1'\n", base)
	fmt.Fprintf(w, "  curl -s %s/public-questions/\n", base)
	fmt.Fprintf(w, "  curl -s '%s/operator/v1/reports/?state=open' -H 'Authorization: Token demo-operator-1'\n\n", base)
}
