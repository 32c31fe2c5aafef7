package kittest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
)

// Harness tells the hardening suite how to speak a dialect. Requests are
// made with the test world's tokens (TokUser1 is user 545382, TokSeller1
// data source 1, both of channel 1).
type Harness struct {
	// NewEnv starts the dialect with the kit's Config adjusted by
	// configure.
	NewEnv func(t *testing.T, configure func(*httpapi.Config)) *Env
	// Start starts, through the dialect, conversation number i between
	// TokUser1 and data source 1 (a different item for each i) and
	// returns the reference the dialect's paths use for it and its id.
	Start func(e *Env, i int) (ref string, id int64)
	// Post is the request by TokUser1 that adds a message to ref whose
	// content is the raw JSON value content: method, path and body.
	Post func(ref, content string) (method, path, body string)
	// ContentField is the wire name of the message content field.
	ContentField string
	// InvalidStatus is the status of invalid input in the dialect; 0
	// means 400.
	InvalidStatus int
	// Read is the path of a GET of the conversation ref (its own
	// messages) by its user.
	Read func(ref string, id int64) string
	// Listing is the path of a listing of TokUser1's conversations one
	// per page, whose responses carry links; "" if the dialect has none.
	Listing string
	// Wait is the path of a long poll of ref by the party of token for
	// messages after the message after, waiting up to seconds; nil if the
	// dialect has no long poll.
	Wait func(token, ref string, id, after int64, seconds int) string
	// Written tells what Post has written into conversation id: how many
	// writes, and the text of the last one. nil means its messages (a
	// dialect whose Post writes something else, such as an operator's
	// action with its reason, counts that).
	Written func(e *Env, id int64) (n int64, last string)
	// Refusal is the Service's reason, as a regular expression, that the
	// log gives when TokUser2 reads ref with Read; "" means "not a party
	// to conversation".
	Refusal string
}

// Hardening checks every hardening rule of the kit against a dialect.
func Hardening(t *testing.T, h Harness) {
	t.Run("TruncatedBody", func(t *testing.T) { truncatedBody(t, h) })
	t.Run("SlowBody", func(t *testing.T) { slowBody(t, h) })
	t.Run("InvalidText", func(t *testing.T) { invalidText(t, h) })
	t.Run("RepeatedNames", func(t *testing.T) { repeatedNames(t, h) })
	t.Run("Forms", func(t *testing.T) { forms(t, h) })
	t.Run("LinksIgnoreHost", func(t *testing.T) { linksIgnoreHost(t, h) })
	t.Run("WaitBounds", func(t *testing.T) { waitBounds(t, h) })
	t.Run("WakeCoalesced", func(t *testing.T) { wakeCoalesced(t, h) })
	t.Run("NoContentInLogs", func(t *testing.T) { noContentInLogs(t, h) })
	t.Run("RefusalReasonLogged", func(t *testing.T) { refusalReasonLogged(t, h) })
	t.Run("EveryServiceFieldNamed", func(t *testing.T) { everyFieldNamed(t, h) })
	t.Run("OpenAPIDescribesEveryRoute", func(t *testing.T) { describesEveryRoute(t, h) })
}

// describesEveryRoute: the dialect's OpenAPI description is served at its
// path and has every route, with its method; the responses of the other
// tests were validated against it.
func describesEveryRoute(t *testing.T, h Harness) {
	e := h.NewEnv(t, nil)
	d := e.Dialect
	require.NotEmpty(t, d.OpenAPI, "the dialect has an OpenAPI description")
	r := e.Do(http.MethodGet, d.OpenAPIPath, "", nil, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, string(d.OpenAPI), r.Raw)
	var spec struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(d.OpenAPI, &spec))
	assert.Equal(t, "3.1.0", spec.OpenAPI)
	for _, rt := range d.Routes {
		path := strings.TrimSuffix(rt.Path, "{$}")
		ops, ok := spec.Paths[path]
		if assert.True(t, ok, "%s is not described", path) {
			assert.Contains(t, ops, strings.ToLower(rt.Method), "%s %s is not described", rt.Method, path)
		}
	}
}

var user1 = parley.User("1", "545382")

func (h Harness) invalid() int {
	if h.InvalidStatus != 0 {
		return h.InvalidStatus
	}
	return http.StatusBadRequest
}

// written returns how many writes Post has made into conversation id,
// and the text of the last one (by default, its messages).
func (h Harness) written(t *testing.T, e *Env, id int64) (int64, string) {
	t.Helper()
	if h.Written != nil {
		return h.Written(e, id)
	}
	p, err := e.Svc.Messages(context.Background(), user1, id, parley.PageRequest{Limit: 1, WithTotal: true})
	require.NoError(t, err)
	last := ""
	if len(p.Items) > 0 {
		last = p.Items[0].Content
	}
	return p.Total, last
}

// messages returns how many writes Post has made into conversation id.
func (h Harness) messages(t *testing.T, e *Env, id int64) int64 {
	t.Helper()
	n, _ := h.written(t, e, id)
	return n
}

// last returns the text of the last write Post has made into id.
func (h Harness) last(t *testing.T, e *Env, id int64) string {
	t.Helper()
	_, s := h.written(t, e, id)
	return s
}

// rawRequest writes a request's head and part of its body on a new
// connection, and returns the connection.
func rawRequest(t *testing.T, e *Env, method, path, body string, declared int) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", e.Server.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: parley.test\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		method, path, TokUser1, declared)
	_, err = c.Write([]byte(head + body))
	require.NoError(t, err)
	return c.(*net.TCPConn)
}

func readResponse(t *testing.T, c net.Conn) *http.Response {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

// assertDebugOnly checks that the log has the problem's code at debug
// level and no error line.
func assertDebugOnly(t *testing.T, e *Env, code httpapi.Code) {
	t.Helper()
	logs := e.Logs.String()
	assert.NotContains(t, logs, "level=ERROR")
	assert.Regexp(t, `level=DEBUG [^\n]*code=`+string(code), logs)
}

// truncatedBody: a body that ends before its Content-Length is 400,
// logged at debug level, and writes nothing.
func truncatedBody(t *testing.T, h Harness) {
	e := h.NewEnv(t, nil)
	ref, id := h.Start(e, 1)
	before := h.messages(t, e, id)
	method, path, body := h.Post(ref, `"hello"`)
	c := rawRequest(t, e, method, path, body, len(body)+100)
	require.NoError(t, c.CloseWrite())
	res := readResponse(t, c)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Equal(t, before, h.messages(t, e, id))
	assertDebugOnly(t, e, httpapi.CodeIncompleteBody)
}

// slowBody: a body that arrives more slowly than BodyTimeout is 408,
// logged at debug level.
func slowBody(t *testing.T, h Harness) {
	e := h.NewEnv(t, func(c *httpapi.Config) { c.BodyTimeout = 300 * time.Millisecond })
	ref, id := h.Start(e, 1)
	before := h.messages(t, e, id)
	method, path, body := h.Post(ref, `"hello"`)
	c := rawRequest(t, e, method, path, body[:len(body)/2], len(body))
	res := readResponse(t, c) // the rest never comes
	assert.Equal(t, http.StatusRequestTimeout, res.StatusCode)
	assert.Equal(t, before, h.messages(t, e, id))
	assertDebugOnly(t, e, httpapi.CodeBodyTimeout)
}

// invalidText: invalid UTF-8 and unpaired surrogates are 400 naming the
// field, and nothing is stored; a valid surrogate pair is the character.
func invalidText(t *testing.T, h Harness) {
	e := h.NewEnv(t, nil)
	ref, id := h.Start(e, 1)
	before := h.messages(t, e, id)
	for _, raw := range []string{`"\ud800"`, `"a\udc00b"`, `"\ud800\u0041"`, `"\uDBFF"`, "\"a\xffb\"", "\"\xed\xa0\x80\""} {
		method, path, body := h.Post(ref, raw)
		r := e.Do(method, path, TokUser1, body, nil)
		assert.Equal(t, h.invalid(), r.Status, "%q: %s", raw, r.Raw)
		assert.Contains(t, r.Raw, `"`+h.ContentField+`"`, "%q: the field is named", raw)
	}
	assert.Equal(t, before, h.messages(t, e, id), "nothing was stored")
	method, path, body := h.Post(ref, `"\ud83d\ude00 fine"`)
	r := e.Do(method, path, TokUser1, body, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "😀 fine", h.last(t, e, id))
}

// repeatedNames: a name given twice is 400 naming it, and nothing is
// written, so that no proxy and Parley read different requests.
func repeatedNames(t *testing.T, h Harness) {
	e := h.NewEnv(t, nil)
	ref, id := h.Start(e, 1)
	before := h.messages(t, e, id)
	method, path, body := h.Post(ref, `"first"`)
	names := []string{h.ContentField}
	if e.Dialect.FoldCase {
		names = append(names, strings.ToUpper(h.ContentField))
	}
	for _, name := range names {
		dup := `{"` + name + `": "second", ` + strings.TrimPrefix(strings.TrimSpace(body), "{")
		r := e.Do(method, path, TokUser1, dup, nil)
		assert.Equal(t, h.invalid(), r.Status, "%s: %s", dup, r.Raw)
		assert.Contains(t, r.Raw, httpapi.ReasonRepeated[1:], r.Raw)
	}
	assert.Equal(t, before, h.messages(t, e, id), "nothing was written")
}

// forms: a dialect that takes forms (Dialect.Forms) reads a form with
// the fields of its JSON body alike, and the kit's rules for bodies hold
// for forms too: a name given twice (in another case too, with FoldCase)
// and invalid UTF-8 in a value or a name are invalid input naming the
// field, a malformed escape or an empty form is 400, a form over the body
// limit 413, another charset 415; nothing is written by a rejected form.
// A dialect that does not take forms answers a form 415.
func forms(t *testing.T, h Harness) {
	e := h.NewEnv(t, func(c *httpapi.Config) { c.MaxBodyBytes = 4 << 10 })
	ref, id := h.Start(e, 1)
	before := h.messages(t, e, id)
	method, path, body := h.Post(ref, `"placeholder"`)
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	require.NoError(t, dec.Decode(&fields))
	form := func(content string) url.Values {
		f := url.Values{}
		for k, v := range fields {
			f.Set(k, fmt.Sprint(v))
		}
		f.Set(h.ContentField, content)
		return f
	}
	formType := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if !e.Dialect.Forms {
		r := e.Do(method, path, TokUser1, form("by form"), nil)
		assert.Equal(t, http.StatusUnsupportedMediaType, r.Status, r.Raw)
		assert.Equal(t, before, h.messages(t, e, id), "nothing was written")
		return
	}
	without := form("x")
	without.Del(h.ContentField)
	rest := without.Encode()
	cases := []struct {
		name, body, field string
		status            int
	}{
		{"Repeated", form("first").Encode() + "&" + url.QueryEscape(h.ContentField) + "=second", h.ContentField, h.invalid()},
		{"InvalidUTF8Value", rest + "&" + url.QueryEscape(h.ContentField) + "=a%FFb", h.ContentField, h.invalid()},
		{"InvalidUTF8Name", form("fine").Encode() + "&a%FF=1", "", h.invalid()},
		{"MalformedEscape", form("fine").Encode() + "&note=100%", "", http.StatusBadRequest},
		{"Empty", "", "", http.StatusBadRequest},
		{"OnlySeparators", "&&&", "", http.StatusBadRequest},
		{"TooLarge", form(strings.Repeat("x", 5<<10)).Encode(), "", http.StatusRequestEntityTooLarge},
	}
	if e.Dialect.FoldCase {
		cases = append(cases, struct {
			name, body, field string
			status            int
		}{"RepeatedInAnotherCase", form("first").Encode() + "&" + strings.ToUpper(h.ContentField) + "=second", h.ContentField, h.invalid()})
	}
	for _, c := range cases {
		r := e.Do(method, path, TokUser1, c.body, formType)
		assert.Equal(t, c.status, r.Status, "%s: %s", c.name, r.Raw)
		if c.field != "" {
			assert.Contains(t, r.Raw, `"`+c.field+`"`, "%s: the field is named", c.name)
		}
	}
	r := e.Do(method, path, TokUser1, form("fine").Encode(), http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=iso-8859-1"}})
	assert.Equal(t, http.StatusUnsupportedMediaType, r.Status, r.Raw)
	assert.Equal(t, before, h.messages(t, e, id), "nothing was written")

	const content = "by form: 100% sure & more + ü 😀"
	r = e.Do(method, path, TokUser1, form(content).Encode(), http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=UTF-8"}})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, content, h.last(t, e, id))
	assert.Equal(t, before+1, h.messages(t, e, id))
}

// linksIgnoreHost: no response takes the Host header into its body;
// links are relative, or start with the BaseURL when it is set.
func linksIgnoreHost(t *testing.T, h Harness) {
	const evil = "evil.example"
	for _, base := range []string{"", "https://api.example.com/shop"} {
		e := h.NewEnv(t, func(c *httpapi.Config) { c.BaseURL = base })
		ref, id := h.Start(e, 1)
		h.Start(e, 2)
		paths := []string{h.Read(ref, id)}
		if h.Listing != "" {
			paths = append(paths, h.Listing)
		}
		for _, path := range paths {
			req := NewRequest(t, http.MethodGet, e.URL+path, TokUser1, nil)
			req.Host = evil
			r := e.Send(req)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.NotContains(t, r.Raw, evil)
			if path == h.Listing && base != "" {
				assert.Contains(t, r.Raw, `"`+base+"/", "links start with the BaseURL")
			}
			if path == h.Listing && base == "" {
				assert.Contains(t, r.Raw, `"/`, "links are relative")
				assert.NotContains(t, r.Raw, "http://")
			}
		}
	}
	if h.Listing == "" {
		t.Log("the dialect's responses carry no links: only the Host header was checked")
	}
}

// waitBounds: beyond PerActor waits of one actor, or Total in all, a long
// poll is 429 with Retry-After; the others go on.
func waitBounds(t *testing.T, h Harness) {
	if h.Wait == nil {
		t.Skip("the dialect has no long poll")
	}
	e := h.NewEnv(t, func(c *httpapi.Config) {
		c.Waits = httpapi.NewWaits(httpapi.WaitLimits{PerActor: 2, Total: 3, RetryAfter: 7 * time.Second})
	})
	ref, id := h.Start(e, 1)
	after := lastMessage(t, e, id)
	waits := e.Handler.Waits()
	var wg sync.WaitGroup
	park := func(token string) {
		wg.Go(func() {
			r := e.Do(http.MethodGet, h.Wait(token, ref, id, after, 20), token, nil, nil)
			assert.Equal(t, http.StatusOK, r.Status, r.Raw)
		})
	}
	park(TokUser1)
	park(TokUser1)
	require.Eventually(t, func() bool { return waits.Waiting() == 2 }, 5*time.Second, 5*time.Millisecond)
	r := e.Do(http.MethodGet, h.Wait(TokUser1, ref, id, after, 20), TokUser1, nil, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.Status, "a third wait of the same actor: %s", r.Raw)
	assert.Equal(t, "7", r.Header.Get("Retry-After"))
	park(TokSeller1)
	require.Eventually(t, func() bool { return waits.Waiting() == 3 }, 5*time.Second, 5*time.Millisecond)
	r = e.Do(http.MethodGet, h.Wait(TokSeller1, ref, id, after, 20), TokSeller1, nil, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.Status, "a fourth wait in all: %s", r.Raw)
	_, err := e.Svc.Post(context.Background(), parley.Seller("1", "1"), parley.PostRequest{ConversationID: id, Content: "wake up"})
	require.NoError(t, err)
	wg.Wait()
	assert.Zero(t, waits.Waiting())
}

func lastMessage(t *testing.T, e *Env, id int64) int64 {
	t.Helper()
	c, err := e.Svc.Get(context.Background(), user1, id)
	require.NoError(t, err)
	return c.LastMessageID
}

// wakeCoalesced: a message that wakes many waiters of a conversation
// costs one store read, not one each.
func wakeCoalesced(t *testing.T, h Harness) {
	if h.Wait == nil {
		t.Skip("the dialect has no long poll")
	}
	const waiters = 12
	e := h.NewEnv(t, func(c *httpapi.Config) {
		c.Waits = httpapi.NewWaits(httpapi.WaitLimits{PerActor: waiters, Total: waiters})
	})
	ref, id := h.Start(e, 1)
	after := lastMessage(t, e, id)
	var wg sync.WaitGroup
	bodies := make(chan string, waiters)
	for range waiters {
		wg.Go(func() {
			r := e.Do(http.MethodGet, h.Wait(TokUser1, ref, id, after, 20), TokUser1, nil, nil)
			assert.Equal(t, http.StatusOK, r.Status, r.Raw)
			bodies <- r.Raw
		})
	}
	require.Eventually(t, func() bool { return e.Handler.Waits().Waiting() == waiters }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the shared wait park
	base := e.Store.After.Load()
	_, err := e.Svc.Post(context.Background(), parley.Seller("1", "1"), parley.PostRequest{ConversationID: id, Content: "answer for all"})
	require.NoError(t, err)
	wg.Wait()
	close(bodies)
	for b := range bodies {
		assert.Contains(t, b, "answer for all")
	}
	assert.Equal(t, int64(1), e.Store.After.Load()-base, "one store read woke %d waiters", waiters)
}

// noContentInLogs: through the program's logger, at debug level, no
// message content is logged, whether the request succeeds or fails.
func noContentInLogs(t *testing.T, h Harness) {
	const secret = "SECRET-CONTENT-7f3a"
	e := h.NewEnv(t, nil)
	ref, _ := h.Start(e, 1)
	for _, content := range []string{`"` + secret + `"`, `"` + secret + `\u0000"`, `"` + secret + strings.Repeat("x", 5000) + `"`, `"` + secret + `\ud800"`} {
		method, path, body := h.Post(ref, content)
		e.Do(method, path, TokUser1, body, nil)
		e.Do(method, path, TokUser2, body, nil) // not a party
	}
	if h.Wait != nil {
		r := e.Do(http.MethodGet, h.Wait(TokUser1, ref, 0, 0, 0), TokUser1, nil, nil)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		require.Contains(t, r.Raw, secret, "the content was stored and is served")
	}
	logs := e.Logs.String()
	assert.Contains(t, logs, "parley http", "the kit logs through the program's logger")
	assert.NotContains(t, logs, secret)
}

// refusalReasonLogged: a 403 carries the dialect's generic body, and the
// log says why, with the Service's reason.
func refusalReasonLogged(t *testing.T, h Harness) {
	e := h.NewEnv(t, nil)
	ref, id := h.Start(e, 1)
	r := e.Do(http.MethodGet, h.Read(ref, id), TokUser2, nil, nil)
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.NotContains(t, r.Raw, "545383")
	reason := h.Refusal
	if reason == "" {
		reason = "not a party to conversation"
	}
	assert.Regexp(t, `level=INFO [^\n]*code=permission_denied[^\n]*reason="[^"]*`+reason, e.Logs.String())
}

// everyFieldNamed: the dialect names every field the Service reports, so
// that no Go name reaches a client.
func everyFieldNamed(t *testing.T, h Harness) {
	e := h.NewEnv(t, nil)
	for _, name := range serviceFields(t) {
		assert.Contains(t, e.Dialect.Fields, name, "the dialect's Fields lack the Service's %s", name)
	}
}

// serviceFields returns the values of the parley.Field* constants, read
// from the root package's source.
func serviceFields(t *testing.T) []string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for !fileExists(filepath.Join(dir, "go.mod")) {
		require.NotEqual(t, dir, filepath.Dir(dir), "no go.mod above the test")
		dir = filepath.Dir(dir)
	}
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "errors.go"), nil, 0)
	require.NoError(t, err)
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Field") || len(vs.Values) != 1 {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			out = append(out, v)
		}
		return true
	})
	require.NotEmpty(t, out)
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
