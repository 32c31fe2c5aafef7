package kittest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
)

// specCheck validates the responses an Env saw against the dialect's
// OpenAPI description when the test ends. Responses to paths or methods
// the description does not have (the 404 and 405 tests) are passed over;
// the hardening suite checks separately that every route is described.
type specCheck struct {
	v      validator.Validator
	prefix string

	mu        sync.Mutex
	exchanges []exchange
}

type exchange struct {
	req     *http.Request
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

func newSpecCheck(t *testing.T, spec []byte, prefix string) *specCheck {
	t.Helper()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("OpenAPI description: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("OpenAPI description: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("OpenAPI description: %s: %s", e.Message, e.Reason)
		}
	}
	s := &specCheck{v: v, prefix: prefix}
	t.Cleanup(func() { s.check(t) })
	return s
}

func (s *specCheck) add(req *http.Request, reqBody []byte, res *http.Response, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges = append(s.exchanges, exchange{req: req, reqBody: reqBody, status: res.StatusCode, header: res.Header.Clone(), body: body})
}

// check validates every response seen.
func (s *specCheck) check(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	checked := 0
	for _, x := range s.exchanges {
		req := x.req.Clone(x.req.Context())
		req.URL.Path = strings.TrimPrefix(req.URL.Path, s.prefix)
		req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
		res := &http.Response{StatusCode: x.status, Header: x.header, Body: io.NopCloser(bytes.NewReader(x.body)), Request: req}
		ok, errs := s.v.ValidateHttpResponse(req, res)
		if ok {
			checked++
			continue
		}
		if unrouted(errs) {
			continue
		}
		checked++
		for _, e := range errs {
			msg := e.Message + ": " + e.Reason
			for _, se := range e.SchemaValidationErrors {
				msg += fmt.Sprintf("; %s at %s", se.Reason, se.FieldPath)
			}
			t.Errorf("OpenAPI: %s %s → %d: %s\n%s", x.req.Method, x.req.URL.RequestURI(), x.status, msg, clipBody(x.body))
		}
	}
	t.Logf("OpenAPI: %d responses validated", checked)
}

// unrouted reports whether the errors say only that the description has
// no such path or method.
func unrouted(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationType != helpers.PathValidation {
			return false
		}
	}
	return len(errs) > 0
}

func clipBody(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}
