package httpapi

import (
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
)

// listMessages serves GET .../messages/?conversation=ID: a page of the
// conversation's messages, newest first. With after=ID it returns instead
// the messages after that one, oldest first (polling), and with wait=N it
// waits up to N seconds (at most DefaultMaxWait) for one to arrive.
func (h *Handler) listMessages(c *call) error {
	q := c.r.URL.Query()
	if err := checkParams(q, pagingParams, []string{fConversation, qAfter, qWait}); err != nil {
		return err
	}
	errs := fieldErrs{}
	var id int64
	switch v := q.Get(fConversation); {
	case v == "":
		errs.add(fConversation, msgRequired)
	default:
		var ok bool
		if id, ok = flexInt64(FlexID(v)); !ok {
			errs.add(fConversation, msgNotInteger)
		}
	}
	p := parsePage(q, errs)
	if q.Has(qAfter) || q.Has(qWait) {
		return h.newMessages(c, id, p, errs)
	}
	if err := errs.err(); err != nil {
		return err
	}
	ctx := c.r.Context()
	page, err := h.svc.Messages(ctx, c.actor, id, p)
	if err != nil {
		return err
	}
	o, err := h.lookup(ctx, c.channel, false, nil, page.Items)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, h.page(c, page.Total, page.Next, p.Limit, o.messages(page.Items)))
	return nil
}

// The polling parameters of the messages listing.
const (
	qAfter = "after"
	qWait  = "wait"
)

// newMessages serves the polling form of the messages listing: the
// messages after the message "after", oldest first, at most page_size,
// waiting up to "wait" seconds for one when there are none yet.
func (h *Handler) newMessages(c *call, id int64, p parley.PageRequest, errs fieldErrs) error {
	q := c.r.URL.Query()
	after, err := strconv.ParseInt(q.Get(qAfter), 10, 64)
	if err != nil || after < 0 {
		errs.add(qAfter, "A message id (0 or more) is required for polling.")
	}
	wait, ok := ParseWait(q.Get(qWait), DefaultMaxWait)
	if !ok {
		errs.add(qWait, "A whole number of seconds is required.")
	}
	if p.Cursor != "" {
		errs.add(qCursor, "A cursor cannot be combined with after.")
	}
	if err := errs.err(); err != nil {
		return err
	}
	AllowWait(c.w, wait)
	ctx := c.r.Context()
	msgs, err := h.svc.WaitFor(ctx, c.actor, id, after, p.Limit, wait)
	if err != nil {
		return err
	}
	o, err := h.lookup(ctx, c.channel, false, nil, msgs)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, h.page(c, int64(len(msgs)), "", p.Limit, o.messages(msgs)))
	return nil
}

// postMessage serves POST .../messages/: a message added to an existing
// conversation (seed 000's messages endpoint). Required: conversation and
// message_content; the sender is named by content_type and content_id
// (required for an integration); other fields are ignored.
func (h *Handler) postMessage(c *call) error {
	req, err := h.decode(c)
	if err != nil {
		return err
	}
	errs := fieldErrs{}
	if !req.present[fMessageContent] {
		errs.add(fMessageContent, msgRequired)
	}
	if req.Conversation == 0 {
		errs.add(fConversation, msgRequired)
	}
	if err := errs.err(); err != nil {
		return err
	}
	a, err := c.writer(req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	res, err := h.svc.Post(c.r.Context(), a, parley.PostRequest{
		ConversationID: req.Conversation, Content: req.MessageContent, Language: req.Language,
		IdempotencyKey: c.r.Header.Get(idempotencyHeader),
	})
	if err != nil {
		return err
	}
	c.json(http.StatusOK, postResponse(res))
	return nil
}
