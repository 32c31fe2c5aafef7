package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
)

// Query parameters common to every listing.
const (
	qPage     = "page"
	qPageSize = "page_size"
	qLimit    = "limit"
	qCursor   = "cursor"
	qFormat   = "format"
	qChannel  = "channel"
)

// pagingParams are accepted by every listing.
var pagingParams = []string{qPage, qPageSize, qLimit, qCursor, qFormat}

// publicFilters are seed 000's filters of the public listings; the private
// listings accept them and privateFilters.
var publicFilters = []string{
	"modified_date", "modified_date__gte", "modified_date__lte",
	"created_date", "created_date__gte", "created_date__lte",
	"user_id", "product", "order_item", "item_type", "data_source_id", "data_source", "product_base_code",
}

var privateFilters = []string{
	"conversation_type", "user__first_name", "user__last_name", "order_number", "status",
}

// checkParams rejects query parameters that are not allowed, and repeated
// ones: a misspelt filter must not silently list everything.
func checkParams(q url.Values, allowed ...[]string) error {
	ok := map[string]bool{}
	for _, list := range allowed {
		for _, name := range list {
			ok[name] = true
		}
	}
	errs := fieldErrs{}
	for name, vals := range q {
		switch {
		case !ok[name]:
			errs.add(clip(name, 64), "Unknown query parameter.")
		case len(vals) > 1:
			errs.add(name, "Only one value is allowed.")
		}
	}
	return errs.err()
}

// parsePage reads page_size (or its alias limit), cursor, page and format.
// Page sizes above MaxPageSize are lowered to it; page numbers other than 1
// are refused, since listings page with the cursor of their next link.
func parsePage(q url.Values, errs fieldErrs) parley.PageRequest {
	p := parley.PageRequest{Limit: DefaultPageSize, Cursor: q.Get(qCursor), WithTotal: true}
	for _, name := range []string{qPageSize, qLimit} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			if err != nil && isDigits(v) {
				n = MaxPageSize // a huge number: capped like any other
			} else {
				errs.add(name, "A positive integer is required.")
				continue
			}
		}
		p.Limit = min(n, MaxPageSize)
		break
	}
	if v := q.Get(qPage); v != "" && v != "1" {
		errs.add(qPage, "Page numbers are not supported: follow the next link.")
	}
	if v := q.Get(qFormat); v != "" && v != "json" {
		errs.add(qFormat, "Only json is supported.")
	}
	return p
}

// parseFilter reads the filters of a listing. Empty values are ignored.
// Dates: created_date and modified_date take a date (YYYY-MM-DD, the whole
// day in UTC) or an RFC 3339 time (that instant); the __gte and __lte
// forms bound the range inclusively (a date as __lte means through the end
// of that day). Several bounds on one field intersect.
func parseFilter(q url.Values, errs fieldErrs) conversation.Filter {
	var f conversation.Filter
	str := func(name string, dst *string) {
		if v := q.Get(name); v != "" {
			*dst = v
		}
	}
	str("user_id", &f.UserID)
	str("product", &f.ProductID)
	str("order_item", &f.OrderItemID)
	str("product_base_code", &f.ProductBaseCode)
	str("user__first_name", &f.UserFirstName)
	str("user__last_name", &f.UserLastName)
	str("order_number", &f.OrderNumber)

	ds, dsID := q.Get("data_source"), q.Get("data_source_id")
	switch {
	case ds != "" && dsID != "" && ds != dsID:
		errs.add("data_source", "Must equal data_source_id when both are given.")
	case dsID != "":
		f.DataSourceID = dsID
	default:
		f.DataSourceID = ds
	}

	if v := q.Get("item_type"); v != "" {
		if k := conversation.ItemKind(v); k.Valid() {
			f.ItemKind = k
		} else {
			errs.add("item_type", notAChoice(v))
		}
	}
	if v := q.Get("conversation_type"); v != "" {
		if t := conversation.Type(v); t.Valid() {
			f.Type = t
		} else {
			errs.add("conversation_type", notAChoice(v))
		}
	}
	if v := q.Get("status"); v != "" {
		if s := conversation.Status(v); s.Valid() {
			f.Status = s
		} else {
			errs.add("status", notAChoice(v))
		}
	}
	dateRange(q, "created_date", &f.CreatedFrom, &f.CreatedTo, errs)
	dateRange(q, "modified_date", &f.ModifiedFrom, &f.ModifiedTo, errs)
	return f
}

// dateRange reads name, name__gte and name__lte into [from, to].
func dateRange(q url.Values, name string, from, to *time.Time, errs fieldErrs) {
	narrow := func(lo, hi time.Time) {
		if !lo.IsZero() && (from.IsZero() || lo.After(*from)) {
			*from = lo
		}
		if !hi.IsZero() && (to.IsZero() || hi.Before(*to)) {
			*to = hi
		}
	}
	for _, suffix := range []string{"", "__gte", "__lte"} {
		v := q.Get(name + suffix)
		if v == "" {
			continue
		}
		lo, hi, ok := parseWhen(v)
		if !ok {
			errs.add(name+suffix, "Enter a valid date (YYYY-MM-DD) or date and time (RFC 3339).")
			continue
		}
		switch suffix {
		case "":
			narrow(lo, hi)
		case "__gte":
			narrow(lo, time.Time{})
		case "__lte":
			narrow(time.Time{}, hi)
		}
	}
	// A range whose from is after its to is kept: it matches nothing.
}

// parseWhen parses a date (the whole day, UTC) or an RFC 3339 time (one
// instant) into the inclusive range it covers, at the stores' precision.
func parseWhen(v string) (lo, hi time.Time, ok bool) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d, d.Add(24*time.Hour - time.Microsecond), true
	}
	// A '+' in a query string arrives as a space.
	t, err := time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1))
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	t = t.UTC().Truncate(time.Microsecond)
	return t, t, true
}

// nextURL returns the link to the page after this one: the request's own
// URL with cursor replaced and page_size set to the page size in force.
func (h *Handler) nextURL(r *http.Request, cursor string, pageSize int) string {
	q := r.URL.Query()
	q.Del(qLimit)
	q.Del(qPage)
	q.Set(qCursor, cursor)
	if pageSize > 0 {
		q.Set(qPageSize, strconv.Itoa(pageSize))
	}
	return h.baseURL(r) + requestPath(r) + "?" + q.Encode()
}

// baseURL is the scheme and host links start with.
func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.BaseURL != "" {
		return h.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// requestPath is the escaped path the client asked for. It is taken from
// the request line, which http.StripPrefix leaves as it was, so that links
// keep a prefix that was stripped before the handler saw the request.
func requestPath(r *http.Request) string {
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}
