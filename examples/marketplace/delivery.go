package main

import (
	"context"
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
func (d *delivery) notifier(recipients email.Recipients, logger *slog.Logger) (notify.Notifier, error) {
	cfg := email.Config{From: d.from, Recipients: recipients}
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
