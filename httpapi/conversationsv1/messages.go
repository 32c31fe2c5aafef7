package conversationsv1

import (
	"math"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
	"github.com/parleyhq/parley/message"
)

// The polling parameters of the messages listing.
const (
	qAfter = "after"
	qWait  = "wait"
)

// listMessages serves GET .../messages/?conversation=ID: a page of the
// conversation's messages, newest first. With after=ID it returns instead
// the messages after that one, oldest first (polling), and with wait=N it
// waits up to N seconds for one to arrive.
func (d *dialect) listMessages(c *httpapi.Call) error {
	q := c.R.URL.Query()
	if err := checkParams(q, pagingParams, []string{fConversation, qAfter, qWait}); err != nil {
		return err
	}
	errs := httpapi.Fields{}
	var id int64
	switch v := q.Get(fConversation); {
	case v == "":
		errs.Add(fConversation, "is required")
	default:
		var ok bool
		if id, ok = wire.PositiveInt(v); !ok {
			errs.Add(fConversation, msgNotInteger)
		}
	}
	pp := parsePage(q, errs)
	if q.Has(qAfter) || q.Has(qWait) {
		return d.newMessages(c, id, pp, errs)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	ctx := c.R.Context()
	page, err := fetch(c, pp, func(p parley.PageRequest) (parley.Page[message.Message], error) {
		return d.svc.Messages(ctx, c.Actor, id, p)
	})
	if err != nil {
		return err
	}
	o, err := d.lookup(ctx, c.Actor.Channel(), false, nil, page.Items)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, listing(c, pp, page.Total, page.Next, o.messages(page.Items)))
	return nil
}

// newMessages serves the polling form of the messages listing: the
// messages after the message "after", oldest first, at most page_size,
// waiting up to "wait" seconds for one when there are none yet.
func (d *dialect) newMessages(c *httpapi.Call, id int64, pp pageParams, errs httpapi.Fields) error {
	q := c.R.URL.Query()
	v := q.Get(qAfter)
	after, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil && wire.Digits(v) && len(v) >= 19:
		after = math.MaxInt64 // past every message: nothing yet, not an error
	case err != nil || after < 0:
		errs.Add(qAfter, "A message id (0 or more) is required for polling.")
	}
	wait, err := c.ParseWait(qWait, q.Get(qWait))
	if err != nil {
		errs.Add(qWait, "A whole number of seconds is required.")
	}
	if pp.cursor != "" || q.Has(qPage) {
		errs.Add(qCursor, "Neither a cursor nor a page can be combined with after.")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	msgs, err := c.WaitMessages(d.svc, c.Actor, id, after, pp.size, wait)
	if err != nil {
		return err
	}
	o, err := d.lookup(c.R.Context(), c.Actor.Channel(), false, nil, msgs)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, pageJSON{Count: int64(len(msgs)), Results: o.messages(msgs)})
	return nil
}

// postMessage serves POST .../messages/: a message added to an existing
// conversation (seed 000's messages endpoint). Required: conversation and
// message_content; the sender is named by content_type and content_id
// (required for an integration); other fields are ignored.
func (d *dialect) postMessage(c *httpapi.Call) error {
	req, err := decode(c)
	if err != nil {
		return err
	}
	errs := httpapi.Fields{}
	if !req.has(fMessageContent) {
		errs.Add(fMessageContent, "is required")
	}
	if req.Conversation == 0 {
		errs.Add(fConversation, "is required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	a, err := writer(c, req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	res, err := d.svc.Post(c.R.Context(), a, parley.PostRequest{
		ConversationID: req.Conversation, Content: req.MessageContent, Language: req.Language,
		IdempotencyKey: c.R.Header.Get(idempotencyHeader),
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, postResponse(res))
	return nil
}
