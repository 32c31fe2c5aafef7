package operatorv1

import (
	_ "embed"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
)

// OpenAPIPath is where the dialect's OpenAPI 3.1 description is served,
// below the kit's Prefix, without authentication.
const OpenAPIPath = "/operator/v1/openapi.json"

// The paging defaults of the listings.
const (
	// DefaultPageSize is the page size of a listing whose request names
	// none.
	DefaultPageSize = 20
	// MaxPageSize caps page_size; larger values are lowered to it.
	MaxPageSize = 100
)

//go:embed openapi.json
var openAPI []byte

// Options configure the operator dialect. There are none yet; the type
// keeps the signature of the other dialects.
type Options struct{}

type dialect struct{ svc *parley.Service }

// Dialect returns the operator dialect over svc, to serve with
// httpapi.New alone or beside others.
func Dialect(svc *parley.Service, _ Options) (*httpapi.Dialect, error) {
	if err := httpapi.CheckOptions("operatorv1", svc); err != nil {
		return nil, err
	}
	d := &dialect{svc: svc}
	return &httpapi.Dialect{
		Name:        "operatorv1",
		Routes:      d.routes(),
		Render:      render,
		Fields:      fieldNames,
		OpenAPI:     openAPI,
		OpenAPIPath: OpenAPIPath,
	}, nil
}

const base = "/operator/v1"

// routes lists every route; see the package documentation's table.
func (d *dialect) routes() []httpapi.Route {
	route := func(method, path string, serve func(c *httpapi.Call) error) httpapi.Route {
		return httpapi.Route{Method: method, Path: base + path, Admit: admitOperator, Serve: serve}
	}
	return []httpapi.Route{
		route(http.MethodGet, "/reports/{$}", d.listReports),
		route(http.MethodGet, "/reports/{id}/{$}", d.getReport),
		route(http.MethodPost, "/reports/{id}/resolve/{$}", d.resolveReport),
		route(http.MethodGet, "/conversations/{id}/messages/{$}", d.messages),
		route(http.MethodPost, "/conversations/{id}/hide/{$}", d.hide(true)),
		route(http.MethodPost, "/conversations/{id}/unhide/{$}", d.hide(false)),
		route(http.MethodPost, "/conversations/{id}/messages/{message}/hide/{$}", d.hide(true)),
		route(http.MethodPost, "/conversations/{id}/messages/{message}/unhide/{$}", d.hide(false)),
		route(http.MethodGet, "/audit/{$}", d.audit),
		route(http.MethodGet, "/people/{kind}/{id}/export/{$}", d.export),
		route(http.MethodPost, "/people/{kind}/{id}/erase/{$}", d.erase),
	}
}

// admitOperator lets only operators use the dialect.
func admitOperator(c *httpapi.Call) error {
	if k := c.Actor.Kind(); k != parley.ActorOperator {
		p := httpapi.NewProblem(httpapi.CodePermission)
		p.Err = &parley.PermissionError{Reason: k.String() + " is not an operator"}
		return p
	}
	return nil
}
