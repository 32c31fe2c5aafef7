package conversationsv1

import (
	_ "embed"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
)

// OpenAPIPath is where the dialect's OpenAPI 3.1 description is served,
// below the kit's Prefix, without authentication.
const OpenAPIPath = "/api/v1/openapi.json"

//go:embed openapi.json
var openAPI []byte

// dialect is seed 000's dialect over a Service.
type dialect struct {
	svc  *parley.Service
	opts Options
}

// Dialect returns seed 000's dialect over svc, to serve with httpapi.New
// alone or beside others.
func Dialect(svc *parley.Service, opts Options) (*httpapi.Dialect, error) {
	opts, err := opts.withDefaults(svc)
	if err != nil {
		return nil, err
	}
	d := &dialect{svc: svc, opts: opts}
	return &httpapi.Dialect{
		Name:         "conversationsv1",
		Routes:       d.routes(),
		Render:       render,
		Fields:       fieldNames,
		MaxBodyBytes: DefaultMaxBodyBytes,
		OpenAPI:      openAPI,
		OpenAPIPath:  OpenAPIPath,
	}, nil
}

// routes lists every route; see the package documentation's table.
func (d *dialect) routes() []httpapi.Route {
	var rs []httpapi.Route
	for _, base := range []struct {
		path  string
		admit func(c *httpapi.Call) error
	}{{"/api/v1/remote/{channel}", admitRemote}, {"/users", admitUser}} {
		add := func(method, path string, serve func(c *httpapi.Call) error) {
			rs = append(rs, httpapi.Route{Method: method, Path: base.path + path, Admit: base.admit, Serve: serve})
		}
		add(http.MethodGet, "/conversations/{$}", d.listConversations)
		add(http.MethodPost, "/conversations/{$}", d.createConversation)
		add(http.MethodGet, "/conversations/{id}/{$}", d.getConversation)
		add(http.MethodPatch, "/conversations/{id}/{$}", d.setStatus)
		add(http.MethodPost, "/conversations/{id}/read/{$}", d.markRead)
		add(http.MethodGet, "/messages/{$}", d.listMessages)
		add(http.MethodPost, "/messages/{$}", d.postMessage)
		add(http.MethodPost, "/messages/{id}/report/{$}", d.reportMessage)
		add(http.MethodGet, "/unread/{$}", d.unread)
		add(http.MethodGet, "/events/{$}", d.events)
	}
	for path, serve := range map[string]func(c *httpapi.Call) error{
		"/public-questions/{$}": d.publicQuestions,
		"/public-reviews/{$}":   d.publicReviews,
	} {
		rs = append(rs, httpapi.Route{Method: http.MethodGet, Path: path, Public: true, Serve: serve})
	}
	return rs
}

// admitUser lets users (registered or guest) use the /users/ routes.
func admitUser(c *httpapi.Call) error {
	if c.Actor.Kind() != parley.ActorUser {
		return refuse(c.Actor.Kind().String() + " cannot use the /users/ routes")
	}
	return nil
}

// admitRemote lets sellers and integrations of the channel named in the
// path use the remote routes; another channel is not found (channels do
// not see each other).
func admitRemote(c *httpapi.Call) error {
	if k := c.Actor.Kind(); k != parley.ActorSeller && k != parley.ActorIntegration {
		return refuse(k.String() + " cannot use the remote routes")
	}
	if c.R.PathValue("channel") != c.Actor.Channel() {
		return httpapi.NewProblem(httpapi.CodeNotFound)
	}
	return nil
}

// refuse is a 403 whose reason is logged.
func refuse(reason string) error {
	p := httpapi.NewProblem(httpapi.CodePermission)
	p.Err = &parley.PermissionError{Reason: reason}
	return p
}
