package email_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/notify/email"
)

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// directory is a Recipients lookup over a map keyed by party id.
type directory map[string][2]string

func (d directory) Address(_ context.Context, channel string, p notify.Party) (string, string, error) {
	if channel != "shop" {
		return "", "", errors.New("unknown channel " + channel)
	}
	v, ok := d[p.ID]
	if !ok {
		return "", "", errors.New("unknown party " + p.ID)
	}
	return v[0], v[1], nil
}

func testDirectory() directory {
	return directory{
		"ds1": {"Ünal's Shop", "seller@shop.example"},
		"u1":  {"Alice", "alice@example.com"},
	}
}

// notification returns a notification to the seller ds1 about messages
// from the user u1 with the given contents.
func notification(subject string, contents ...string) notify.Notification {
	conv := conversation.Conversation{
		ID: 7, Channel: "shop", Type: conversation.TypeMessage,
		UserID: "u1", DataSourceID: "ds1", Subject: subject,
	}
	seller := notify.Party{Kind: message.SenderDataSource, ID: "ds1"}
	user := notify.Party{Kind: message.SenderUser, ID: "u1"}
	n := notify.Notification{Key: "0195e6a1-0000-7000-8000-000000000001", Recipient: seller, Conversation: conv}
	for i, c := range contents {
		kind := notify.KindMessagePosted
		if i == 0 {
			kind = notify.KindConversationStarted
		}
		n.Events = append(n.Events, notify.Event{
			ID: "evt" + string(rune('a'+i)), Kind: kind, Channel: "shop", ConversationID: 7,
			MessageID: int64(100 + i), Recipient: seller, Sender: user,
		})
		n.Messages = append(n.Messages, message.Message{
			ID: int64(100 + i), ConversationID: 7, Seq: int64(i + 1),
			Sender: message.User("u1", message.UserRegistered), Content: c,
			CreatedAt: testNow.Add(time.Duration(i) * time.Minute),
		})
	}
	return n
}

func newNotifier(t *testing.T, cfg email.Config) *email.Notifier {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Parley Shop <noreply@shop.example>"
	}
	if cfg.Recipients == nil {
		cfg.Recipients = testDirectory()
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	n, err := email.New(cfg)
	require.NoError(t, err)
	return n
}

// parsed is a received message, decoded.
type parsed struct {
	Header  mail.Header
	Subject string
	Text    string
	HTML    string
	Raw     string
}

func parse(t *testing.T, data string) parsed {
	t.Helper()
	for i, line := range strings.SplitAfter(data, "\r\n") {
		require.Falsef(t, strings.Contains(strings.TrimSuffix(line, "\r\n"), "\n"), "line %d has a bare LF: %q", i, line)
		require.LessOrEqualf(t, len(line), 1000, "line %d is too long", i)
	}
	msg, err := mail.ReadMessage(strings.NewReader(data))
	require.NoError(t, err)
	p := parsed{Header: msg.Header, Raw: data}
	p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "1.0", msg.Header.Get("MIME-Version"))
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.Equal(t, "quoted-printable", part.Header.Get("Content-Transfer-Encoding"))
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		require.NoError(t, err)
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			p.Text = string(body)
		case "text/html; charset=utf-8":
			p.HTML = string(body)
		default:
			t.Fatalf("unexpected part %q", ct)
		}
	}
	return p
}

func TestNotifier_Notify(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{})
		n := newNotifier(t, email.Config{
			Addr: srv.Addr, TLS: email.NoTLS,
			Link: func(n notify.Notification) string { return "https://shop.example/inbox?c=7&x=<y>" },
		})
		nt := notification("Größe der Jacke?",
			"Hello, is this available in XL?",
			`<script>alert("hi")</script> & more`)
		require.NoError(t, n.Notify(context.Background(), nt))

		got := srv.next(t)
		assert.Equal(t, "noreply@shop.example", got.From)
		assert.Equal(t, []string{"seller@shop.example"}, got.Rcpt)
		m := parse(t, got.Data)

		from, err := mail.ParseAddress(m.Header.Get("From"))
		require.NoError(t, err)
		assert.Equal(t, mail.Address{Name: "Parley Shop", Address: "noreply@shop.example"}, *from)
		to, err := m.Header.AddressList("To")
		require.NoError(t, err)
		assert.Equal(t, []*mail.Address{{Name: "Ünal's Shop", Address: "seller@shop.example"}}, to)
		assert.NotContains(t, m.Header.Get("To"), "Ünal", "a non-ASCII name is encoded")

		assert.Equal(t, "New conversation from Alice: Größe der Jacke?", m.Subject)
		assert.True(t, strings.HasPrefix(m.Header.Get("Subject"), "=?utf-8?q?"), "a non-ASCII subject is encoded: %q", m.Header.Get("Subject"))
		assert.Equal(t, nt.Key, m.Header.Get("X-Parley-Idempotency-Key"))
		assert.Equal(t, "<parley."+nt.Key+"@shop.example>", m.Header.Get("Message-ID"))
		date, err := m.Header.Date()
		require.NoError(t, err)
		assert.True(t, date.Equal(testNow), "Date %v", date)

		assert.Contains(t, m.Text, "Hello Ünal's Shop,")
		assert.Contains(t, m.Text, "Alice started a conversation with you about \"Größe der Jacke?\".")
		assert.Contains(t, m.Text, "Hello, is this available in XL?")
		assert.Contains(t, m.Text, `<script>alert("hi")</script> & more`, "the text body is not escaped")
		assert.Contains(t, m.Text, "Read and reply: https://shop.example/inbox?c=7&x=<y>")

		assert.Contains(t, m.HTML, "Hello Ünal&#39;s Shop,")
		assert.Contains(t, m.HTML, "Hello, is this available in XL?")
		assert.NotContains(t, m.HTML, "<script>")
		assert.Contains(t, m.HTML, "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; more")
		assert.Contains(t, m.HTML, `href="https://shop.example/inbox?c=7&amp;x=%3cy%3e"`)
	})

	t.Run("Digest", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{})
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.NoTLS})
		nt := notification("", "one", "two", "three")
		nt.Events = nt.Events[1:] // no conversation.started among them
		require.NoError(t, n.Notify(context.Background(), nt))
		m := parse(t, srv.next(t).Data)
		assert.Equal(t, "3 new messages from Alice", m.Subject)
		assert.Contains(t, m.Text, "Alice sent you 3 messages.")
		for _, c := range []string{"one", "two", "three"} {
			assert.Contains(t, m.Text, c)
			assert.Contains(t, m.HTML, c)
		}
	})

	t.Run("HeaderInjectionInSubjectIsFolded", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{})
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.NoTLS})
		nt := notification("Hi\r\nBcc: victim@example.com\r\nX-Evil: 1", "body")
		require.NoError(t, n.Notify(context.Background(), nt))
		got := srv.next(t)
		assert.Equal(t, []string{"seller@shop.example"}, got.Rcpt)
		m := parse(t, got.Data)
		assert.Empty(t, m.Header["Bcc"])
		assert.Empty(t, m.Header["X-Evil"])
		assert.Equal(t, "New conversation from Alice: Hi Bcc: victim@example.com X-Evil: 1", m.Subject)
		head, _, _ := strings.Cut(m.Raw, "\r\n\r\n")
		assert.NotContains(t, head, "\nBcc:")
		assert.NotContains(t, head, "\nX-Evil:")
	})

	t.Run("ErrInvalidHeader", func(t *testing.T) {
		rawSubject := texttemplate.Must(texttemplate.New("s").Parse(`{{.Conversation.Subject}}`))
		for name, tc := range map[string]struct {
			cfg   email.Config
			nt    notify.Notification
			field string
		}{
			"SubjectTemplate": {
				cfg:   email.Config{Templates: email.Templates{Subject: rawSubject}},
				nt:    notification("Hi\r\nBcc: victim@example.com", "body"),
				field: "Subject",
			},
			"SubjectNUL": {
				cfg:   email.Config{Templates: email.Templates{Subject: rawSubject}},
				nt:    notification("Hi\x00there", "body"),
				field: "Subject",
			},
			"RecipientName": {
				cfg:   email.Config{Recipients: directory{"ds1": {"Shop\r\nBcc: victim@example.com", "seller@shop.example"}, "u1": {"A", ""}}},
				nt:    notification("s", "body"),
				field: "To",
			},
			"RecipientNameLF": {
				cfg:   email.Config{Recipients: directory{"ds1": {"Shop\nBcc: victim@example.com", "seller@shop.example"}, "u1": {"A", ""}}},
				nt:    notification("s", "body"),
				field: "To",
			},
			"RecipientAddress": {
				cfg:   email.Config{Recipients: directory{"ds1": {"Shop", "seller@shop.example>\r\nRCPT TO:<victim@example.com"}, "u1": {"A", ""}}},
				nt:    notification("s", "body"),
				field: "To",
			},
			"RecipientAddressWithName": {
				cfg:   email.Config{Recipients: directory{"ds1": {"Shop", "Victim <victim@example.com>"}, "u1": {"A", ""}}},
				nt:    notification("s", "body"),
				field: "To",
			},
		} {
			t.Run(name, func(t *testing.T) {
				srv := startSMTP(t, smtpOptions{})
				tc.cfg.Addr, tc.cfg.TLS = srv.Addr, email.NoTLS
				n := newNotifier(t, tc.cfg)
				err := n.Notify(context.Background(), tc.nt)
				var he *email.HeaderError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, tc.field, he.Field)
				assert.ErrorIs(t, err, email.ErrInvalidHeader)
				assert.True(t, notify.IsPermanent(err), "an invalid header is not retried")
				srv.none(t)
			})
		}
	})

	t.Run("NoAddressSendsNothing", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{})
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.NoTLS,
			Recipients: directory{"ds1": {"Shop", ""}, "u1": {"Alice", ""}}})
		require.NoError(t, n.Notify(context.Background(), notification("s", "body")))
		srv.none(t)
	})

	t.Run("LookupErrorIsRetried", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{})
		lookupErr := errors.New("directory down")
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.NoTLS,
			Recipients: email.RecipientsFunc(func(context.Context, string, notify.Party) (string, string, error) {
				return "", "", lookupErr
			})})
		err := n.Notify(context.Background(), notification("s", "body"))
		require.ErrorIs(t, err, lookupErr)
		assert.False(t, notify.IsPermanent(err))
		srv.none(t)
	})

	t.Run("StartTLSAndAuth", func(t *testing.T) {
		serverTLS, clientTLS := selfSigned(t)
		srv := startSMTP(t, smtpOptions{TLS: serverTLS})
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLSConfig: clientTLS,
			Username: "mailer", Password: "s3cret"})
		require.NoError(t, n.Notify(context.Background(), notification("s", "body")))
		got := srv.next(t)
		assert.True(t, got.TLS, "the message was sent after STARTTLS")
		assert.Equal(t, "mailer", got.AuthUser)
		assert.Equal(t, "s3cret", got.AuthPass)
		assert.Equal(t, []string{"seller@shop.example"}, got.Rcpt)
	})

	t.Run("ImplicitTLS", func(t *testing.T) {
		serverTLS, clientTLS := selfSigned(t)
		srv := startSMTP(t, smtpOptions{TLS: serverTLS, Implicit: true})
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.ImplicitTLS, TLSConfig: clientTLS,
			Username: "mailer", Password: "s3cret"})
		require.NoError(t, n.Notify(context.Background(), notification("s", "body")))
		got := srv.next(t)
		assert.True(t, got.TLS)
		assert.Equal(t, "mailer", got.AuthUser)
	})

	t.Run("UntrustedCertificate", func(t *testing.T) {
		serverTLS, _ := selfSigned(t)
		srv := startSMTP(t, smtpOptions{TLS: serverTLS})
		n := newNotifier(t, email.Config{Addr: srv.Addr}) // the system roots do not trust it
		require.Error(t, n.Notify(context.Background(), notification("s", "body")))
		srv.none(t)
	})

	t.Run("RejectedRecipientIsRetried", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{RejectRcpt: true})
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.NoTLS})
		err := n.Notify(context.Background(), notification("s", "body"))
		require.ErrorContains(t, err, "550")
		assert.False(t, notify.IsPermanent(err))
		srv.none(t)
	})

	t.Run("StartTLSRequired", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{}) // offers no STARTTLS
		n := newNotifier(t, email.Config{Addr: srv.Addr})
		err := n.Notify(context.Background(), notification("s", "body"))
		require.ErrorContains(t, err, "STARTTLS")
		srv.none(t)
	})

	t.Run("ContextCancelled", func(t *testing.T) {
		srv := startSMTP(t, smtpOptions{Silent: true})
		n := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.NoTLS})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-srv.Connected
			cancel()
		}()
		err := n.Notify(ctx, notification("s", "body"))
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("Send", func(t *testing.T) {
		var sent []email.Message
		n := newNotifier(t, email.Config{Send: func(_ context.Context, from string, to []string, msg []byte) error {
			sent = append(sent, email.Message{From: from, To: to, Data: msg})
			return nil
		}})
		require.NoError(t, n.Notify(context.Background(), notification("s", "body")))
		require.Len(t, sent, 1)
		assert.Equal(t, []string{"seller@shop.example"}, sent[0].To)
		assert.Contains(t, parse(t, string(sent[0].Data)).Text, "body")
	})
}

func TestNotifier_Compose(t *testing.T) {
	t.Run("LongNonASCIISubjectIsFolded", func(t *testing.T) {
		n := newNotifier(t, email.Config{Send: func(context.Context, string, []string, []byte) error { return nil }})
		subject := strings.Repeat("ğüşiöç🙂", 36) // 252 runes, 540 bytes
		m, err := n.Compose(context.Background(), notification(subject, "body"))
		require.NoError(t, err)
		p := parse(t, string(m.Data)) // checks every line is at most 1000 bytes
		assert.Equal(t, "New conversation from Alice: "+subject, p.Subject)
		assert.Contains(t, p.Raw, "?=\r\n =?utf-8?q?")
	})

	t.Run("SameKeySameMessageID", func(t *testing.T) {
		n := newNotifier(t, email.Config{Send: func(context.Context, string, []string, []byte) error { return nil }})
		a, err := n.Compose(context.Background(), notification("s", "body"))
		require.NoError(t, err)
		b, err := n.Compose(context.Background(), notification("s", "body", "another"))
		require.NoError(t, err)
		ma, mb := parse(t, string(a.Data)), parse(t, string(b.Data))
		assert.Equal(t, ma.Header.Get("Message-ID"), mb.Header.Get("Message-ID"))
		assert.NotEmpty(t, ma.Header.Get("Message-ID"))
	})
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]email.Config{
		"NoRecipients": {Addr: "127.0.0.1:25", From: "a@b.example"},
		"BadFrom":      {Addr: "127.0.0.1:25", From: "not an address", Recipients: testDirectory()},
		"InjectedFrom": {Addr: "127.0.0.1:25", From: "a@b.example\r\nBcc: c@d.example", Recipients: testDirectory()},
		"NoAddr":       {From: "a@b.example", Recipients: testDirectory()},
		"BadTLSMode":   {Addr: "127.0.0.1:25", From: "a@b.example", Recipients: testDirectory(), TLS: 42},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := email.New(cfg)
			require.ErrorIs(t, err, email.ErrInvalidConfig)
		})
	}
	t.Run("DefaultTemplatesParse", func(t *testing.T) {
		tpl := email.DefaultTemplates()
		var b bytes.Buffer
		require.NoError(t, tpl.Subject.Execute(&b, email.Data{}))
		assert.Equal(t, "New message", b.String())
	})
}
