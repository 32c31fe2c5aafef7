// Package email is a notify.Notifier that sends notifications as email
// through an SMTP server (seed 002: a seller is emailed when a user starts
// a conversation; seed 000: a user is emailed when a seller writes).
//
// Each notification becomes one multipart/alternative message, plain text
// and HTML, rendered from Templates that the program may replace. The
// program supplies the addresses through Recipients. Message content is
// escaped in the HTML body by html/template, and no value taken from a
// conversation, a message or a lookup can add a mail header: header values
// and addresses containing CR, LF or NUL are rejected with a *HeaderError
// (the default subject template folds line breaks into spaces first), and
// non-ASCII header values are encoded with RFC 2047.
//
// Every message carries the notification's Key twice: in the
// X-Parley-Idempotency-Key header, and in its Message-ID, so that a
// redelivery (the outbox delivers at least once) has the Message-ID of the
// first delivery and mail systems that drop repeated Message-IDs drop it.
//
// A minimal setup:
//
//	n, err := email.New(email.Config{
//		Addr:       "smtp.example.com:587",
//		From:       "Shop <noreply@shop.example>",
//		Username:   "noreply@shop.example",
//		Password:   os.Getenv("SMTP_PASSWORD"),
//		Recipients: myDirectory, // looks up names and addresses
//	})
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/parleyhq/parley/notify"
)

// Recipients looks up who a party is. The program supplies it: parley
// knows user and data source ids, not their names or addresses.
type Recipients interface {
	// Address returns the display name and email address of party p in
	// channel. An empty address with a nil error means the party gets no
	// email: the notification is dropped. An error fails the delivery,
	// which the outbox retries.
	Address(ctx context.Context, channel string, p notify.Party) (name, address string, err error)
}

// RecipientsFunc adapts a function to the Recipients interface.
type RecipientsFunc func(ctx context.Context, channel string, p notify.Party) (name, address string, err error)

// Address calls f(ctx, channel, p).
func (f RecipientsFunc) Address(ctx context.Context, channel string, p notify.Party) (string, string, error) {
	return f(ctx, channel, p)
}

// TLSMode is how the connection to the SMTP server is encrypted.
type TLSMode int

// The TLS modes.
const (
	// StartTLS (the default) upgrades the connection with STARTTLS and
	// fails if the server does not offer it (submission, port 587).
	StartTLS TLSMode = iota
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS
	// NoTLS sends in clear text: only for a relay on the same host or a
	// test server.
	NoTLS
)

// SendFunc hands a composed message to a mail transport.
type SendFunc func(ctx context.Context, from string, to []string, msg []byte) error

// Config configures a Notifier.
type Config struct {
	// Addr is the SMTP server, host:port. Required unless Send is set.
	Addr string
	// From is the sender, an RFC 5322 address such as
	// "Shop <noreply@shop.example>". Required.
	From string
	// Username and Password, when Username is set, authenticate with
	// PLAIN (which net/smtp only allows over TLS or to localhost).
	Username, Password string
	// Auth, if set, is used instead of Username and Password.
	Auth smtp.Auth
	// TLS is the encryption mode; TLSConfig, if set, configures it (its
	// ServerName defaults to Addr's host).
	TLS       TLSMode
	TLSConfig *tls.Config
	// LocalName is the name sent with EHLO; "" means "localhost".
	LocalName string
	// Timeout bounds one delivery, on top of the context's deadline;
	// 0 means 30 seconds.
	Timeout time.Duration

	// Recipients looks up names and addresses. Required.
	Recipients Recipients
	// Templates render the subject and bodies; nil fields use
	// DefaultTemplates.
	Templates Templates
	// Link, if set, returns the link to the conversation for the
	// notification's recipient, given to the templates as Data.Link.
	Link func(n notify.Notification) string
	// Now is the clock of the Date header. nil: time.Now.
	Now func() time.Time
	// Send, if set, replaces SMTP: the composed message is handed to it
	// (a program that logs its mail in development, a mail API).
	Send SendFunc
}

// Notifier sends notifications as email. It is safe for concurrent use:
// each Notify opens its own SMTP connection.
type Notifier struct {
	cfg  Config
	from mail.Address
	host string
	tpl  Templates
	send SendFunc
}

var _ notify.Notifier = (*Notifier)(nil)

// ErrInvalidConfig is returned (wrapped) by New. Check it with errors.Is.
var ErrInvalidConfig = errors.New("email: invalid config")

// New returns a Notifier for cfg.
func New(cfg Config) (*Notifier, error) {
	bad := func(format string, args ...any) (*Notifier, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if cfg.Recipients == nil {
		return bad("Recipients is required")
	}
	if err := checkHeader("From", cfg.From); err != nil {
		return bad("%w", err)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return bad("From %q: %w", cfg.From, err)
	}
	n := &Notifier{cfg: cfg, from: *from, tpl: cfg.Templates.withDefaults(), send: cfg.Send}
	if n.send == nil {
		host, _, err := net.SplitHostPort(cfg.Addr)
		if err != nil || host == "" {
			return bad("Addr %q is not host:port", cfg.Addr)
		}
		if cfg.TLS < StartTLS || cfg.TLS > NoTLS {
			return bad("unknown TLS mode %d", cfg.TLS)
		}
		n.host = host
		n.send = n.sendSMTP
	}
	if n.cfg.Timeout <= 0 {
		n.cfg.Timeout = 30 * time.Second
	}
	if n.cfg.LocalName == "" {
		n.cfg.LocalName = "localhost"
	}
	if n.cfg.Now == nil {
		n.cfg.Now = time.Now
	}
	return n, nil
}

// Notify composes the email of notification nt and sends it. An invalid
// header value or address is a permanent error (notify.IsPermanent): the
// outbox does not retry it.
func (s *Notifier) Notify(ctx context.Context, nt notify.Notification) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	m, err := s.Compose(ctx, nt)
	if err != nil {
		return err
	}
	if m == nil {
		return nil // the recipient has no address
	}
	if err := s.send(ctx, m.From, m.To, m.Data); err != nil {
		return fmt.Errorf("email: send notification %s: %w", nt.Key, err)
	}
	return nil
}

// Message is a composed email.
type Message struct {
	From string   // the envelope sender (MAIL FROM)
	To   []string // the envelope recipients (RCPT TO)
	Data []byte   // the message, headers and body, lines ending in CRLF
}

// Compose looks up the recipient and renders the email of nt without
// sending it. It returns nil, nil if the recipient has no address.
func (s *Notifier) Compose(ctx context.Context, nt notify.Notification) (*Message, error) {
	channel := nt.Conversation.Channel
	if channel == "" && len(nt.Events) > 0 {
		channel = nt.Events[0].Channel
	}
	name, addr, err := s.cfg.Recipients.Address(ctx, channel, nt.Recipient)
	if err != nil {
		return nil, fmt.Errorf("email: look up recipient %s %s: %w", nt.Recipient.Kind, nt.Recipient.ID, err)
	}
	if addr == "" {
		return nil, nil
	}
	to, err := address("To", name, addr)
	if err != nil {
		return nil, notify.Permanent(err)
	}
	data := Data{
		Notification: nt,
		Conversation: nt.Conversation,
		Messages:     nt.Messages,
		Recipient:    Contact{Name: name, Address: addr},
	}
	if len(nt.Events) > 0 {
		data.Kind = nt.Events[0].Kind
		data.Sender.Party = nt.Events[0].Sender
		// "Started" only if the recipient is yet to read the first message.
		unread := make(map[int64]bool, len(nt.Messages))
		for _, m := range nt.Messages {
			unread[m.ID] = true
		}
		for _, e := range nt.Events {
			data.Started = data.Started || (e.Kind == notify.KindConversationStarted && unread[e.MessageID])
		}
		sn, sa, err := s.cfg.Recipients.Address(ctx, channel, data.Sender.Party)
		if err != nil {
			return nil, fmt.Errorf("email: look up sender %s %s: %w", data.Sender.Kind, data.Sender.ID, err)
		}
		data.Sender.Name, data.Sender.Address = sn, sa
	}
	data.Recipient.Party = nt.Recipient
	if s.cfg.Link != nil {
		data.Link = s.cfg.Link(nt)
	}
	subject, text, html, err := s.tpl.render(data)
	if err != nil {
		return nil, notify.Permanent(err)
	}
	msg, err := build(header{
		from:    s.from,
		to:      to,
		subject: subject,
		date:    s.cfg.Now(),
		key:     nt.Key,
	}, text, html)
	if err != nil {
		return nil, notify.Permanent(err)
	}
	return &Message{From: s.from.Address, To: []string{to.Address}, Data: msg}, nil
}

// sendSMTP delivers msg through the SMTP server at Addr.
func (s *Notifier) sendSMTP(ctx context.Context, from string, to []string, msg []byte) (err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	// Every read and write ends when ctx does.
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer func() {
		stop()
		if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
	}()
	tlsConfig := s.tlsConfig()
	if s.cfg.TLS == ImplicitTLS {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		_ = conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(s.cfg.LocalName); err != nil {
		return err
	}
	if s.cfg.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("server does not offer STARTTLS (set TLS: email.NoTLS for a local relay)")
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return err
		}
	}
	if auth := s.auth(); auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("server does not offer AUTH")
		}
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (s *Notifier) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.cfg.TLSConfig != nil {
		c = s.cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.ServerName == "" {
		c.ServerName = s.host
	}
	return c
}

func (s *Notifier) auth() smtp.Auth {
	if s.cfg.Auth != nil {
		return s.cfg.Auth
	}
	if s.cfg.Username != "" {
		return smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host)
	}
	return nil
}

// address checks a display name and an email address and returns them as
// a mail.Address.
func address(field, name, addr string) (mail.Address, error) {
	if err := checkHeader(field, name); err != nil {
		return mail.Address{}, err
	}
	if err := checkHeader(field, addr); err != nil {
		return mail.Address{}, err
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Address != addr || strings.ContainsAny(addr, "<>") {
		return mail.Address{}, &HeaderError{Field: field, Reason: "not a plain email address"}
	}
	return mail.Address{Name: name, Address: addr}, nil
}
