package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
)

// listMessages serves GET .../messages/?conversation=ID: a page of the
// conversation's messages, newest first.
func (h *Handler) listMessages(c *call) error {
	q := c.r.URL.Query()
	if err := checkParams(q, pagingParams, []string{fConversation}); err != nil {
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
	results := make([]messageJSON, 0, len(page.Items))
	for _, m := range page.Items {
		j := o.message(m)
		j.Conversation = m.ConversationID
		results = append(results, j)
	}
	c.json(http.StatusOK, h.page(c, page.Total, page.Next, p.Limit, results))
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
