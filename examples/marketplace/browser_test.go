package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/store/memory"
)

// browserPath returns the headless browser the test drives, or skips the
// test when none is installed.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium browser installed (Debian: apt-get install -y chromium; or set PARLEY_CHROMIUM): the demo page is not tested in a browser")
	return ""
}

// must fails the test if err is not nil, with what the page in tab
// shows.
func must(t *testing.T, tab context.Context, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	c, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	state, err2 := chromedp.Run(c, chromedp.Evaluate[string](`[document.getElementById('live').textContent,
		document.getElementById('error').textContent, document.getElementById('totals').textContent,
		document.getElementById('conversations').innerText, document.getElementById('messages').innerText].join(' | ')`))
	t.Fatalf("%s: %v\npage: %s %v", what, err, state, err2)
}

// eval is an action that stores the value of a JavaScript expression in
// dst.
func eval[T any](expr string, dst *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Evaluate[T](expr)(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// textOf is an action that stores the text of the element sel in dst.
func textOf(sel string, dst *string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Text(sel)(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// newBrowser starts a headless browser and returns a function that opens
// a new tab in it.
func newBrowser(t *testing.T) func() context.Context {
	t.Helper()
	path := browserPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.WindowSize(1100, 800),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(bctx), "start the browser")
	return func() context.Context {
		tab, cancelTab := chromedp.NewContext(bctx)
		t.Cleanup(cancelTab)
		// The tab lives as long as the context of its first run: open it
		// without a timeout (the later runs have theirs).
		require.NoError(t, chromedp.Do(tab), "open a tab")
		return tab
	}
}

// TestDemoPage_Browser drives the demo inbox in headless Chromium: a buyer
// page and a seller page open at once; the buyer sends, the seller's page
// shows the message (in its inbox, with an unread count) within a second
// without reload; the seller opens the conversation, which marks it read,
// and the buyer's page shows the read receipt. A message with a <script>
// shows as text. A screenshot of both pages is written under the test's
// temporary folder.
func TestDemoPage_Browser(t *testing.T) {
	newTab := newBrowser(t)
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := build(ctx, st, delivery{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	t.Cleanup(a.api.EndStreams)

	// The seeded conversation between buyer 545382 and Test Shop.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/conversations/", nil)
	req.Header.Set("Authorization", "Token demo-user-545382")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var list struct {
		Results []struct {
			ID int64 `json:"id"`
		} `json:"results"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&list))
	res.Body.Close()
	require.Len(t, list.Results, 1)
	conv := list.Results[0].ID
	item := fmt.Sprintf(`.conv[data-id="%d"]`, conv)

	guard := func(tab context.Context, d time.Duration) (context.Context, context.CancelFunc) {
		return context.WithTimeout(tab, d)
	}
	buyer, seller := newTab(), newTab()
	for _, p := range []struct {
		tab context.Context
		as  string
	}{{buyer, "demo-user-545382"}, {seller, "demo-seller-1"}} {
		c, cancel := guard(p.tab, 20*time.Second)
		err := chromedp.Do(c,
			chromedp.Navigate(srv.URL+"/demo/?as="+p.as),
			chromedp.WaitVisible(`#live[data-state="live"]`),
			chromedp.WaitVisible(item),
		)
		cancel()
		must(t, p.tab, err, "open the page as "+p.as)
	}

	// The buyer opens the conversation and sends.
	const text = `<script>window.pwned = true</script><b>bold?</b> Is it still available?`
	c, cancel := guard(buyer, 10*time.Second)
	err = chromedp.Do(c,
		chromedp.Click(item),
		chromedp.WaitVisible(`#composer`),
		chromedp.WaitVisible(`.msg`),
		chromedp.SendKeys(`#text`, text),
	)
	cancel()
	must(t, buyer, err, "the buyer opens the conversation")
	sent := time.Now()
	c, cancel = guard(buyer, 10*time.Second)
	require.NoError(t, chromedp.Do(c, chromedp.Click(`#send`)))
	cancel()

	// The seller's inbox shows it within a second, unread, without reload.
	var preview, badge string
	c, cancel = guard(seller, time.Second)
	err = chromedp.Do(c,
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('%s .preview').textContent === %q`, item, text),
			chromedp.WithPollingInterval(20*time.Millisecond)),
	)
	cancel()
	require.NoError(t, err, "the seller's page did not show the message within a second")
	t.Logf("the seller's page showed the message %v after the buyer's click", time.Since(sent).Round(time.Millisecond))
	c, cancel = guard(seller, 5*time.Second)
	require.NoError(t, chromedp.Do(c,
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('%s .badge').dataset.count !== "0"`, item)),
		textOf(item+` .preview`, &preview),
		textOf(item+` .badge`, &badge),
	))
	cancel()
	require.Equal(t, text, preview, "the message shows as text")
	require.NotEqual(t, "0", badge, "the seller has unread messages")

	// The seller opens the conversation: the message is there as text,
	// nothing ran, and opening it marks it read.
	var shown string
	var pwned, scripts, bolds int
	c, cancel = guard(seller, 10*time.Second)
	require.NoError(t, chromedp.Do(c,
		chromedp.Click(item),
		chromedp.WaitVisible(`#messages .msg:last-child`),
		eval(`document.querySelector('#messages .msg:last-child').firstChild.textContent`, &shown),
		eval(`window.pwned ? 1 : 0`, &pwned),
		eval(`document.querySelectorAll('#messages script').length`, &scripts),
		eval(`document.querySelectorAll('#messages b').length`, &bolds),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('%s .badge').dataset.count === "0"`, item)),
	))
	cancel()
	require.Equal(t, text, shown)
	require.Zero(t, pwned, "a message's script ran")
	require.Zero(t, scripts, "a message became a script element")
	require.Zero(t, bolds, "a message became markup")

	// The buyer's page shows the read receipt.
	c, cancel = guard(buyer, 5*time.Second)
	require.NoError(t, chromedp.Do(c,
		chromedp.WaitVisible(`#messages .msg.mine:last-child[data-read="true"]`),
	), "the buyer's page did not show the read receipt")
	cancel()

	// The seller replies; the buyer sees it live too.
	c, cancel = guard(seller, 5*time.Second)
	require.NoError(t, chromedp.Do(c,
		chromedp.SendKeys(`#text`, "Yes, it is."),
		chromedp.Click(`#send`),
	))
	cancel()
	c, cancel = guard(buyer, 5*time.Second)
	require.NoError(t, chromedp.Do(c,
		chromedp.Poll[chromedp.Void](`document.querySelector('#messages .msg:last-child').firstChild.textContent === "Yes, it is."`),
	), "the buyer's page did not show the reply")
	cancel()

	dir := t.TempDir()
	for name, tab := range map[string]context.Context{"buyer": buyer, "seller": seller} {
		c, cancel := guard(tab, 10*time.Second)
		png, err := chromedp.Run(c, chromedp.FullScreenshot(90))
		cancel()
		require.NoError(t, err)
		path := filepath.Join(dir, "demo-"+name+".png")
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s (%d bytes)", path, len(png))
	}
}
