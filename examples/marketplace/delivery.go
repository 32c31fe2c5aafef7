package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/notify/email"
	"github.com/parleyhq/parley/store"
)

// delivery configures how the example delivers its notifications: through
// the store's outbox and a notify.Worker, as emails sent to the SMTP
// server named by -smtp, or written to the log when -smtp is empty.
type delivery struct {
	smtpAddr string
	from     string
	user     string
	tls      string
	digest   time.Duration
}

const defaultFrom = "Parley Demo <parley@localhost>"

func (d *delivery) flags(fs *flag.FlagSet) {
	fs.StringVar(&d.smtpAddr, "smtp", "", "SMTP server host:port for notification emails (empty: log them)")
	fs.StringVar(&d.from, "smtp-from", defaultFrom, "sender of notification emails")
	fs.StringVar(&d.user, "smtp-user", "", "SMTP user (the password is read from PARLEY_SMTP_PASSWORD)")
	fs.StringVar(&d.tls, "smtp-tls", "starttls", "SMTP TLS: starttls, tls or none")
	fs.DurationVar(&d.digest, "digest", 0, "gather notifications of one recipient and conversation for this long (0: send at once)")
}

// notifier returns the email notifier: sending through SMTP, or logging
// each composed email.
func (d *delivery) notifier(logger *slog.Logger) (notify.Notifier, error) {
	cfg := email.Config{From: d.from, Recipients: email.RecipientsFunc(demoAddress)}
	if cfg.From == "" {
		cfg.From = defaultFrom
	}
	if d.smtpAddr == "" {
		cfg.Send = func(ctx context.Context, from string, to []string, msg []byte) error {
			logger.LogAttrs(ctx, slog.LevelInfo, "email (not sent: no -smtp)",
				slog.String("from", from), slog.Any("to", to), slog.Int("bytes", len(msg)))
			logger.Debug(string(msg))
			return nil
		}
	} else {
		cfg.Addr, cfg.Username, cfg.Password = d.smtpAddr, d.user, os.Getenv("PARLEY_SMTP_PASSWORD")
		switch d.tls {
		case "starttls":
			cfg.TLS = email.StartTLS
		case "tls":
			cfg.TLS = email.ImplicitTLS
		case "none":
			cfg.TLS = email.NoTLS
		default:
			return nil, fmt.Errorf("-smtp-tls %q: want starttls, tls or none", d.tls)
		}
	}
	return email.New(cfg)
}

// worker returns the delivery worker over st's outbox.
func (d *delivery) worker(st store.Store, n notify.Notifier, logger *slog.Logger) (*notify.Worker, error) {
	cfg := notify.DefaultWorkerConfig()
	cfg.Name = "marketplace"
	cfg.PollInterval = time.Second
	cfg.DigestWindow = d.digest
	cfg.Logger = logger
	cfg.OnDead = func(ctx context.Context, ev notify.Event) {
		logger.LogAttrs(ctx, slog.LevelError, "notification given up", slog.String("event", ev.ID), slog.String("error", ev.LastError))
	}
	return notify.NewWorker(st, st, n, cfg)
}

// demoAddress is the example's address book: the users' and shops'
// email addresses.
func demoAddress(_ context.Context, _ string, p notify.Party) (string, string, error) {
	book := map[notify.Party][2]string{
		{Kind: "user", ID: "545382"}:  {"", "akinon@hotmail.com"},
		{Kind: "user", ID: "545383"}:  {"", "user-545383@example.com"},
		{Kind: "user", ID: "1001"}:    {"Guest", "guest-1001@example.com"},
		{Kind: "datasource", ID: "1"}: {"Test Shop", "test-shop@example.com"},
		{Kind: "datasource", ID: "2"}: {"Sin's Shop", "sin-shop@example.com"},
	}
	if e, ok := book[p]; ok {
		return e[0], e[1], nil
	}
	return "", "", errors.New("no address for " + string(p.Kind) + " " + p.ID)
}
