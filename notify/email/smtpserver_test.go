package email_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// received is one message accepted by the test SMTP server.
type received struct {
	From     string
	Rcpt     []string
	Data     string // with the dot-stuffing undone
	TLS      bool
	AuthUser string
	AuthPass string
}

// smtpServer is a small SMTP server for tests, listening on 127.0.0.1. It
// speaks EHLO, STARTTLS (when given a certificate), AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP and QUIT, and hands each message to Messages
// before it acknowledges the DATA: a client that saw its message accepted
// finds it in Messages.
type smtpServer struct {
	Addr     string
	Messages chan received
	// Connected receives a value when a client connects.
	Connected chan struct{}
	opts      smtpOptions
	ln        net.Listener
	wg        sync.WaitGroup
}

// smtpOptions shape a test server.
type smtpOptions struct {
	// TLS, if set, is offered with STARTTLS, or spoken from the first
	// byte with Implicit.
	TLS      *tls.Config
	Implicit bool
	// Silent servers accept connections and never answer.
	Silent bool
	// RejectRcpt makes RCPT fail with 550.
	RejectRcpt bool
}

// startSMTP starts a server.
func startSMTP(t *testing.T, opts smtpOptions) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{
		Addr:      ln.Addr().String(),
		Messages:  make(chan received, 16),
		Connected: make(chan struct{}, 16),
		opts:      opts,
		ln:        ln,
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(t, conn)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *smtpServer) serve(t *testing.T, conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute)) // a stuck client must not hang the test run
	s.Connected <- struct{}{}
	if s.opts.Silent {
		var b [1]byte
		_, _ = conn.Read(b[:]) // until the client gives up and closes
		return
	}
	var cur received
	if s.opts.Implicit {
		tc := tls.Server(conn, s.opts.TLS)
		if err := tc.Handshake(); err != nil {
			t.Logf("smtp server: TLS handshake: %v", err) // the client reports it
			return
		}
		conn, cur.TLS = tc, true
	}
	r := bufio.NewReader(conn)
	reply := func(lines ...string) {
		for i, l := range lines {
			sep := " "
			if i < len(lines)-1 {
				sep = "-"
			}
			fmt.Fprintf(conn, "%s%s%s\r\n", l[:3], sep, l[4:])
		}
	}
	reply("220 test.invalid ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250 test.invalid"}
			if s.opts.TLS != nil && !cur.TLS {
				lines = append(lines, "250 STARTTLS")
			}
			if cur.TLS {
				lines = append(lines, "250 AUTH PLAIN")
			}
			reply(append(lines, "250 8BITMIME")...)
		case "STARTTLS":
			if s.opts.TLS == nil || cur.TLS {
				reply("502 no")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(conn, s.opts.TLS)
			if err := tc.Handshake(); err != nil {
				t.Logf("smtp server: TLS handshake: %v", err) // the client reports it
				return
			}
			conn, r = tc, bufio.NewReader(tc)
			cur = received{TLS: true}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if mech != "PLAIN" || err != nil || len(parts) != 3 {
				reply("501 bad auth")
				continue
			}
			cur.AuthUser, cur.AuthPass = parts[1], parts[2]
			reply("235 ok")
		case "MAIL":
			cur.From = between(arg, "<", ">")
			reply("250 ok")
		case "RCPT":
			if s.opts.RejectRcpt {
				reply("550 no such mailbox")
				continue
			}
			cur.Rcpt = append(cur.Rcpt, between(arg, "<", ">"))
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = data.String()
			s.Messages <- cur
			cur = received{TLS: cur.TLS, AuthUser: cur.AuthUser, AuthPass: cur.AuthPass}
			reply("250 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("500 unknown command")
		}
	}
}

// next returns the next received message, failing the test if there is
// none: the client has returned, so the message is there or was never sent.
func (s *smtpServer) next(t *testing.T) received {
	t.Helper()
	select {
	case m := <-s.Messages:
		return m
	default:
		t.Fatal("the SMTP server received no message")
		return received{}
	}
}

// none checks that the server received no message.
func (s *smtpServer) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-s.Messages:
		t.Fatalf("the SMTP server received a message:\n%s", m.Data)
	default:
	}
}

func between(s, open, close string) string {
	_, rest, _ := strings.Cut(s, open)
	v, _, _ := strings.Cut(rest, close)
	return v
}

// selfSigned returns a server TLS config for 127.0.0.1 and a client TLS
// config that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}
