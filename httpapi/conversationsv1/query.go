package conversationsv1

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
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
	errs := httpapi.Fields{}
	for name, vals := range q {
		switch {
		case !ok[name]:
			errs.Add(wire.Clip(name, 64), "Unknown query parameter.")
		case len(vals) > 1:
			errs.Add(name, "Only one value is allowed.")
		}
	}
	return errs.Err()
}

// pageParams are a listing's paging parameters.
type pageParams struct {
	size   int
	cursor string
	// number is the page number: asked for with page, or carried by a
	// next link beside its cursor; 0 when unknown (a cursor alone).
	number int
}

// parsePage reads page_size (or its alias limit), page, cursor and
// format. Page sizes above MaxPageSize are lowered to it. A page without
// a cursor is reached by number (httpapi.PageByNumber); with a cursor,
// page is the number of the page the cursor starts, as next links carry
// it, for the previous link.
func parsePage(q url.Values, errs httpapi.Fields) pageParams {
	pp := pageParams{size: DefaultPageSize, cursor: q.Get(qCursor), number: 1}
	for _, name := range []string{qPageSize, qLimit} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, ok := wire.PositiveInt(v)
		if !ok {
			if len(v) > 19 && wire.Digits(v) && v[0] != '0' {
				n = MaxPageSize // a huge number: capped like any other
			} else {
				errs.Add(name, "A positive integer is required.")
				continue
			}
		}
		pp.size = int(min(n, MaxPageSize))
		break
	}
	if pp.cursor != "" {
		pp.number = 0
	}
	if v := q.Get(qPage); v != "" {
		n, ok := wire.PositiveInt(v)
		if !ok || n > 1<<30 {
			errs.Add(qPage, "A positive integer is required.")
		} else {
			pp.number = int(n)
		}
	}
	if v := q.Get(qFormat); v != "" && v != "json" {
		errs.Add(qFormat, "Only json is supported.")
	}
	return pp
}

// fetch returns the page pp asks for, with its exact total: by cursor, or
// by number.
func fetch[T any](c *httpapi.Call, pp pageParams, list func(parley.PageRequest) (parley.Page[T], error)) (parley.Page[T], error) {
	if pp.cursor != "" {
		return list(parley.PageRequest{Limit: pp.size, Cursor: pp.cursor, WithTotal: true})
	}
	return httpapi.PageByNumber(c, qPage, pp.number, pp.size, true, list)
}

// pageJSON is a listing: seed 000's {count, next, previous, results}.
type pageJSON struct {
	Count    int64   `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  any     `json:"results"`
}

// listing builds a listing response. next is the request's own link with
// the next page's cursor and number and the page size in force (the
// cursor makes it as fast at any depth as the first page); previous asks
// for the page before by number, and is null on the first page and where
// the page number is unknown or too deep to be asked for.
func listing(c *httpapi.Call, pp pageParams, total int64, next string, results any) pageJSON {
	out := pageJSON{Count: max(total, 0), Results: results}
	link := func(cursor string, number int) *string {
		q := c.R.URL.Query()
		q.Del(qLimit)
		q.Del(qPage)
		q.Del(qCursor)
		if cursor != "" {
			q.Set(qCursor, cursor)
		}
		if number > 1 {
			q.Set(qPage, strconv.Itoa(number))
		}
		q.Set(qPageSize, strconv.Itoa(pp.size))
		u := c.Link(c.Path(), q)
		return &u
	}
	if next != "" {
		n := 0
		if pp.number > 0 {
			n = pp.number + 1
		}
		out.Next = link(next, n)
	}
	if pp.number > 1 {
		out.Previous = link("", pp.number-1)
	}
	return out
}

// parseFilter reads the filters of a listing. Empty values are ignored.
// Dates: created_date and modified_date take a date (YYYY-MM-DD, the whole
// day in UTC) or an RFC 3339 time (that instant); the __gte and __lte
// forms bound the range inclusively (a date as __lte means through the end
// of that day). Several bounds on one field intersect.
func parseFilter(q url.Values, errs httpapi.Fields) conversation.Filter {
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
		errs.Add("data_source", "Must equal data_source_id when both are given.")
	case dsID != "":
		f.DataSourceID = dsID
	default:
		f.DataSourceID = ds
	}

	if v := q.Get("item_type"); v != "" {
		if k := conversation.ItemKind(v); k.Valid() {
			f.ItemKind = k
		} else {
			errs.Add("item_type", notAChoice(v))
		}
	}
	if v := q.Get("conversation_type"); v != "" {
		if t := conversation.Type(v); t.Valid() {
			f.Type = t
		} else {
			errs.Add("conversation_type", notAChoice(v))
		}
	}
	if v := q.Get("status"); v != "" {
		if s := conversation.Status(v); s.Valid() {
			f.Status = s
		} else {
			errs.Add("status", notAChoice(v))
		}
	}
	dateRange(q, "created_date", &f.CreatedFrom, &f.CreatedTo, errs)
	dateRange(q, "modified_date", &f.ModifiedFrom, &f.ModifiedTo, errs)
	return f
}

// dateRange reads name, name__gte and name__lte into [from, to].
func dateRange(q url.Values, name string, from, to *time.Time, errs httpapi.Fields) {
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
			errs.Add(name+suffix, "Enter a valid date (YYYY-MM-DD) or date and time (RFC 3339).")
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
