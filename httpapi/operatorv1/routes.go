package operatorv1

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
)

// The wire names of the request fields and query parameters.
const (
	fOutcome      = "outcome"
	fNote         = "note"
	fReason       = "reason"
	fState        = "state"
	fConversation = "conversation"
	fMessage      = "message"
	qPageSize     = "page_size"
	qCursor       = "cursor"
)

// fieldNames maps the Service's field names to the dialect's.
var fieldNames = map[string]string{
	parley.FieldChannel:          "channel",
	parley.FieldUser:             "user",
	parley.FieldDataSource:       "datasource",
	parley.FieldConversationType: "conversation_type",
	parley.FieldItemContent:      "item_content",
	parley.FieldItemID:           "item_id",
	parley.FieldSubject:          "subject",
	parley.FieldMessageContent:   "message_content",
	parley.FieldLanguage:         "language_code",
	parley.FieldConversation:     fConversation,
	parley.FieldMessage:          fMessage,
	parley.FieldIdempotencyKey:   "Idempotency-Key",
	parley.FieldStatus:           "status",
	parley.FieldSender:           "content_type",
	parley.FieldLimit:            qPageSize,
	parley.FieldCursor:           qCursor,
	parley.FieldOffset:           "page",
	parley.FieldFilter:           "non_field_errors",
	parley.FieldPosition:         "Last-Event-ID",
	parley.FieldStaff:            "staff",
	parley.FieldReason:           fReason,
	parley.FieldNote:             fNote,
	parley.FieldReport:           "id",
	parley.FieldOutcome:          fOutcome,
	parley.FieldState:            fState,
}

// reportJSON is a report on the wire.
type reportJSON struct {
	ID             int64      `json:"id"`
	Conversation   int64      `json:"conversation"`
	Message        int64      `json:"message"`
	Reporter       senderJSON `json:"reporter"`
	Reason         string     `json:"reason"`
	Note           string     `json:"note"`
	State          string     `json:"state"`
	CreatedAt      time.Time  `json:"created_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	ResolvedBy     *string    `json:"resolved_by"`
	Outcome        *string    `json:"outcome"`
	ResolutionNote *string    `json:"resolution_note"`
}

// senderJSON names a user or a data source.
type senderJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func toReport(r moderation.Report) reportJSON {
	out := reportJSON{
		ID: r.ID, Conversation: r.ConversationID, Message: r.MessageID,
		Reporter: senderJSON{Type: string(r.Reporter.Kind), ID: r.Reporter.ID},
		Reason:   string(r.Reason), Note: r.Note, State: string(r.State), CreatedAt: r.CreatedAt.UTC(),
	}
	if r.State == moderation.StateResolved {
		at, by, outcome, note := r.ResolvedAt.UTC(), r.ResolvedBy, string(r.Outcome), r.ResolutionNote
		out.ResolvedAt, out.ResolvedBy, out.Outcome, out.ResolutionNote = &at, &by, &outcome, &note
	}
	return out
}

// entryJSON is an audit entry on the wire; ids that do not apply are
// null.
type entryJSON struct {
	ID           int64       `json:"id"`
	Staff        string      `json:"staff"`
	Action       string      `json:"action"`
	Conversation *int64      `json:"conversation"`
	Message      *int64      `json:"message"`
	Report       *int64      `json:"report"`
	Subject      *senderJSON `json:"subject"`
	Reason       string      `json:"reason"`
	At           time.Time   `json:"at"`
}

func toEntry(e moderation.Entry) entryJSON {
	opt := func(id int64) *int64 {
		if id == 0 {
			return nil
		}
		return &id
	}
	out := entryJSON{ID: e.ID, Staff: e.Staff, Action: string(e.Action), Conversation: opt(e.ConversationID),
		Message: opt(e.MessageID), Report: opt(e.ReportID), Reason: e.Reason, At: e.At.UTC()}
	if e.Subject.ID != "" {
		out.Subject = &senderJSON{Type: string(e.Subject.Kind), ID: e.Subject.ID}
	}
	return out
}

// conversationJSON is a conversation as a moderation action leaves it.
type conversationJSON struct {
	ID             int64  `json:"id"`
	Type           string `json:"conversation_type"`
	Hidden         bool   `json:"hidden"`
	HiddenMessages int64  `json:"hidden_messages"`
	MessageCount   int64  `json:"message_count"`
}

func toConversation(c conversation.Conversation) conversationJSON {
	return conversationJSON{ID: c.ID, Type: string(c.Type), Hidden: c.Hidden, HiddenMessages: c.HiddenMessages, MessageCount: c.MessageCount}
}

// messageJSON is a message as an operator reads it: hidden ones too,
// with their content.
type messageJSON struct {
	ID        int64      `json:"id"`
	Sender    senderJSON `json:"sender"`
	Content   string     `json:"message_content"`
	Hidden    bool       `json:"hidden"`
	CreatedAt time.Time  `json:"created_at"`
}

func toMessage(m message.Message) messageJSON {
	return messageJSON{ID: m.ID, Sender: senderJSON{Type: string(m.Sender.Kind), ID: m.Sender.ID}, Content: m.Content, Hidden: m.Hidden, CreatedAt: m.CreatedAt.UTC()}
}

// listJSON is a keyset-paged listing.
type listJSON[T any] struct {
	Next    *string `json:"next"`
	Results []T     `json:"results"`
}

// pageRequest reads page_size and cursor, checking that q has no other
// parameter than those and allowed.
func pageRequest(q url.Values, errs httpapi.Fields, allowed ...string) parley.PageRequest {
	for name, vs := range q {
		ok := name == qPageSize || name == qCursor
		for _, a := range allowed {
			ok = ok || name == a
		}
		switch {
		case !ok:
			errs.Add(wire.Clip(name, 64), "is not a parameter of this listing")
		case len(vs) > 1:
			errs.Add(wire.Clip(name, 64), httpapi.ReasonRepeated)
		}
	}
	p := parley.PageRequest{Limit: DefaultPageSize, Cursor: q.Get(qCursor)}
	if v := q.Get(qPageSize); v != "" {
		n, ok := wire.PositiveInt(v)
		switch {
		case !ok:
			errs.Add(qPageSize, "must be a positive integer")
		case n > MaxPageSize:
			p.Limit = MaxPageSize
		default:
			p.Limit = int(n)
		}
	}
	return p
}

// writeList answers a listing with page (or err), each item through
// toWire.
func writeList[T, W any](c *httpapi.Call, page parley.Page[T], err error, toWire func(T) W) error {
	if err != nil {
		return err
	}
	out := listJSON[W]{Next: next(c, page.Next), Results: make([]W, 0, len(page.Items))}
	for _, it := range page.Items {
		out.Results = append(out.Results, toWire(it))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// next is the link to the page after the one whose Next is cursor.
func next(c *httpapi.Call, cursor string) *string {
	if cursor == "" {
		return nil
	}
	q := c.R.URL.Query()
	q.Set(qCursor, cursor)
	l := c.Link(c.Path(), q)
	return &l
}

// listReports serves GET /operator/v1/reports/: the moderation queue.
func (d *dialect) listReports(c *httpapi.Call) error {
	q := c.R.URL.Query()
	errs := httpapi.Fields{}
	p := pageRequest(q, errs, fState, fReason)
	if err := errs.Err(); err != nil {
		return err
	}
	f := parley.ReportFilter{State: moderation.State(q.Get(fState)), Reason: moderation.Reason(q.Get(fReason))}
	page, err := d.svc.Reports(c.R.Context(), c.Actor, f, p)
	return writeList(c, page, err, toReport)
}

// pathID reads a positive id from the path; another value is not found.
func pathID(c *httpapi.Call, name string) (int64, error) {
	id, ok := wire.PositiveInt(c.R.PathValue(name))
	if !ok {
		return 0, httpapi.NewProblem(httpapi.CodeNotFound)
	}
	return id, nil
}

// getReport serves GET /operator/v1/reports/{id}/.
func (d *dialect) getReport(c *httpapi.Call) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := d.svc.GetReport(c.R.Context(), c.Actor, id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toReport(r))
	return nil
}

// body reads a request object and its string fields; a field of
// another type is invalid.
func body(c *httpapi.Call, names ...string) (map[string]string, error) {
	o, err := c.Object(false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = o.String(n)
	}
	errs := httpapi.Fields{}
	for _, te := range o.TypeErrors {
		errs.Add(te.Field, "must be a string")
	}
	return out, errs.Err()
}

// resolveReport serves POST /operator/v1/reports/{id}/resolve/.
func (d *dialect) resolveReport(c *httpapi.Call) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	b, err := body(c, fOutcome, fNote)
	if err != nil {
		return err
	}
	r, err := d.svc.ResolveReport(c.R.Context(), c.Actor, id, moderation.Outcome(b[fOutcome]), b[fNote])
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toReport(r))
	return nil
}

// person reads the party a personal-data route names: {kind} is "user"
// or "datasource", {id} its id.
func person(c *httpapi.Call) (message.Sender, error) {
	id := c.R.PathValue("id")
	switch c.R.PathValue("kind") {
	case string(message.SenderUser):
		return message.User(id, ""), nil
	case string(message.SenderDataSource):
		return message.DataSource(id), nil
	}
	p := httpapi.NewProblem(httpapi.CodeNotFound)
	p.Err = fmt.Errorf("operatorv1: %q is not a kind of person (user or datasource)", c.R.PathValue("kind"))
	return message.Sender{}, p
}

// export serves everything stored about one person of the channel
// (parley.PersonalData, its documented JSON document).
func (d *dialect) export(c *httpapi.Call) error {
	who, err := person(c)
	if err != nil {
		return err
	}
	doc, err := d.svc.Export(c.R.Context(), c.Actor, who)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, doc)
	return nil
}

// erasureJSON is what an erasure replaced.
type erasureJSON struct {
	Messages      int64 `json:"messages"`
	Conversations int64 `json:"conversations"`
	Reports       int64 `json:"reports"`
}

// erase replaces one person's personal data with tombstones
// (parley.Service.Erase), with a required reason; repeating it changes
// nothing and answers zero counts.
func (d *dialect) erase(c *httpapi.Call) error {
	who, err := person(c)
	if err != nil {
		return err
	}
	b, err := body(c, fReason)
	if err != nil {
		return err
	}
	e, err := d.svc.Erase(c.R.Context(), c.Actor, who, b[fReason])
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, erasureJSON{Messages: e.Messages, Conversations: e.Conversations, Reports: e.Reports})
	return nil
}

// hide serves the hide and unhide routes of a conversation or a message.
func (d *dialect) hide(hidden bool) func(c *httpapi.Call) error {
	return func(c *httpapi.Call) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var msg int64
		if c.R.PathValue("message") != "" {
			if msg, err = pathID(c, "message"); err != nil {
				return err
			}
		}
		b, err := body(c, fReason)
		if err != nil {
			return err
		}
		r := parley.HideRequest{ConversationID: id, MessageID: msg, Reason: b[fReason]}
		set := d.svc.Unhide
		if hidden {
			set = d.svc.Hide
		}
		conv, err := set(c.R.Context(), c.Actor, r)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, toConversation(conv))
		return nil
	}
}

// messages serves GET /operator/v1/conversations/{id}/messages/: a page
// of a conversation's messages, newest first, hidden ones with their
// content, so that an operator reads what was reported.
func (d *dialect) messages(c *httpapi.Call) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	errs := httpapi.Fields{}
	p := pageRequest(c.R.URL.Query(), errs)
	if err := errs.Err(); err != nil {
		return err
	}
	page, err := d.svc.Messages(c.R.Context(), c.Actor, id, p)
	return writeList(c, page, err, toMessage)
}

// audit serves GET /operator/v1/audit/: the audit trail.
func (d *dialect) audit(c *httpapi.Call) error {
	q := c.R.URL.Query()
	errs := httpapi.Fields{}
	p := pageRequest(q, errs, fConversation)
	var conv int64
	if v := q.Get(fConversation); v != "" {
		var ok bool
		if conv, ok = wire.PositiveInt(v); !ok {
			errs.Add(fConversation, "must be a conversation id")
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	page, err := d.svc.Audit(c.R.Context(), c.Actor, conv, p)
	return writeList(c, page, err, toEntry)
}

// render writes a Problem in seed 000's shapes: {"field": ["sentence"]}
// for invalid input, {"detail": "..."} otherwise (a 500 with its request
// id).
func render(c *httpapi.Call, p *httpapi.Problem) {
	switch p.Code {
	case httpapi.CodeInvalid:
		body := make(map[string][]string, len(p.Fields))
		for f, reasons := range p.Fields {
			if f == "" {
				f = "non_field_errors"
			}
			for _, r := range reasons {
				body[f] = append(body[f], sentence(r))
			}
		}
		c.JSON(p.Status, body)
	case httpapi.CodeInvalidCursor:
		c.JSON(p.Status, map[string][]string{qCursor: {"Invalid cursor."}})
	case httpapi.CodeServerError:
		c.JSON(p.Status, map[string]string{"detail": p.Message, "request_id": c.ID})
	default:
		if p.Code == httpapi.CodeUnauthenticated {
			c.W.Header().Set("WWW-Authenticate", `Token realm="api"`)
		}
		if p.Code == httpapi.CodeMethodNotAllowed {
			p.Message = fmt.Sprintf("Method %q not allowed.", wire.Clip(c.R.Method, 20))
		}
		c.JSON(p.Status, map[string]string{"detail": p.Message})
	}
}

// sentence makes a reason about a field a sentence.
func sentence(reason string) string {
	if reason == "" {
		return "This field is invalid."
	}
	s := "This field " + reason
	if reason[0] >= 'A' && reason[0] <= 'Z' || reason[0] == '"' {
		s = reason
	}
	if s[len(s)-1] != '.' {
		s += "."
	}
	return s
}
