package guestv40_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/guestv40"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

const (
	tokGuest   = kittest.TokGuest
	tokUser    = kittest.TokUser1
	tokOther   = kittest.TokUser2
	tokOutlet1 = kittest.TokSeller1
	tokOutlet2 = kittest.TokSeller2
)

// testDirectory: outlet 1 is the front desk, outlet 2 the spa; guest 1001
// is Ana Lima in room 214 (Portuguese), user 545382 Sam Reed (English).
func testDirectory() *guestv40.StaticDirectory {
	return &guestv40.StaticDirectory{
		Outlets: map[string]guestv40.Outlet{
			"1": {Name: "Front desk", PropertyCode: "HTL-1", ServiceCenterName: "Reception"},
			"2": {Name: "Spa", PropertyCode: "HTL-1", ServiceCenterName: "Wellness"},
		},
		Guests: map[string]guestv40.Guest{
			"1001":   {FirstName: "Ana", LastName: "Lima", LanguageCode: "pt", RoomNumber: "214"},
			"545382": {FirstName: "Sam", LastName: "Reed", LanguageCode: "en", RoomNumber: "108"},
		},
	}
}

// testTranslator marks what it translates and fails on "fail".
func testTranslator(_ context.Context, text, from, to string) (string, error) {
	if strings.Contains(text, "fail") {
		return "", errors.New("translation service down")
	}
	return "[" + from + ">" + to + "] " + strings.ToUpper(text), nil
}

// testSession accepts every token but "expired", and renews "old".
func testSession(_ context.Context, _ parley.Actor, token string) (string, error) {
	switch token {
	case "expired":
		return "", errors.New("session expired")
	case "old":
		return "renewed", nil
	}
	return token, nil
}

var stepClock = kittest.StepClock

type env struct {
	*kittest.Env
	t   *testing.T
	svc *parley.Service
	url string
}

type option = func(*parley.Options, *httpapi.Config, *guestv40.Options)

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	base := func(po *parley.Options, _ *httpapi.Config, _ *guestv40.Options) {
		po.Now = time.Now
		po.Translator = parley.TranslatorFunc(testTranslator)
	}
	e := kittest.Build(t, nil, guestv40.Options{
		Directory:     testDirectory(),
		Session:       testSession,
		DefaultOutlet: func(context.Context, string, string) (string, error) { return "1", nil },
	}, guestv40.Dialect, append([]option{base}, opts...)...)
	return &env{Env: e, t: t, svc: e.Svc, url: e.URL}
}

type response struct{ kittest.Response }

func (r response) conversation(t *testing.T, name string) map[string]any {
	return conversationOf(t, r, name)
}
func (r response) envelope(t *testing.T) envelope { return envelopeOf(t, r) }

// envelope is a decoded response envelope.
type envelope struct {
	SessionToken      string                    `json:"sessionToken"`
	ResponsesIncluded string                    `json:"responsesIncluded"`
	Responses         []map[string]responseJSON `json:"responses"`
	Status            string                    `json:"status"`
	Message           string                    `json:"message"`
	Errors            map[string][]string       `json:"errors"`
}

type responseJSON struct {
	Content struct {
		Conversation  map[string]any `json:"conversation"`
		NextPageToken string         `json:"nextPageToken"`
	} `json:"content"`
	Succeeded bool `json:"succeeded"`
}

func envelopeOf(t *testing.T, r response) envelope {
	t.Helper()
	var e envelope
	require.NoError(t, json.Unmarshal([]byte(r.Raw), &e), r.Raw)
	return e
}

// conversation returns the one conversation of a successful response.
func conversationOf(t *testing.T, r response, name string) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	e := envelopeOf(t, r)
	require.Equal(t, "Success", e.Status, r.Raw)
	require.Equal(t, name, e.ResponsesIncluded)
	require.Len(t, e.Responses, 1)
	resp, ok := e.Responses[0][name]
	require.True(t, ok, r.Raw)
	require.True(t, resp.Succeeded)
	return resp.Content.Conversation
}

func messages(c map[string]any) []map[string]any {
	var out []map[string]any
	for _, m := range c["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func (e *env) do(method, path, token string, body any, header http.Header) response {
	e.t.Helper()
	return response{e.Do(method, path, token, body, header)}
}

type obj = map[string]any

// harness speaks seed 001 to the shared hardening suite.
func harness() kittest.Harness {
	return kittest.Harness{
		NewEnv: func(t *testing.T, configure func(*httpapi.Config)) *kittest.Env {
			return newEnv(t, kittest.KitOnly[guestv40.Options](configure)).Env
		},
		Start: func(e *kittest.Env, i int) (string, int64) {
			r := response{e.Do(http.MethodPost, pConvs, tokUser, obj{"message": "hello", "outletCode": "1",
				"orderCode": fmt.Sprint(i), "sessionToken": "s"}, nil)}
			c := r.conversation(e.T, "createConversationResponse")
			return c["code"].(string), int64(messages(c)[0]["conversationId"].(float64))
		},
		Post: func(ref, content string) (string, string, string) {
			return http.MethodPost, pConvs + "/" + ref + "/Messages", `{"sessionToken": "s", "message": ` + content + `}`
		},
		ContentField: "message",
		Read:         func(_ string, id int64) string { return fmt.Sprintf("%s/%d?sessionToken=s", pConvs, id) },
	}
}
