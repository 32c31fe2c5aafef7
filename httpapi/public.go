package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley/conversation"
)

// publicChannel is the channel the public listings show: Config's
// PublicChannel, or else the required channel query parameter.
func (h *Handler) publicChannel(r *http.Request) (string, error) {
	if h.cfg.PublicChannel != "" {
		return h.cfg.PublicChannel, nil
	}
	ch := r.URL.Query().Get(qChannel)
	if ch == "" {
		return "", fieldErrs{qChannel: {msgRequired}}.err()
	}
	return ch, nil
}

// publicQuestions serves GET /public-questions/.
func (h *Handler) publicQuestions(c *call) error {
	return h.publicList(c, conversation.TypeQuestion)
}

// publicReviews serves GET /public-reviews/.
func (h *Handler) publicReviews(c *call) error {
	return h.publicList(c, conversation.TypeReview)
}

// publicList lists the public conversations of type t with seed 000's
// public filters. Users appear as bare ids, and no object carries an email
// address or a phone number.
func (h *Handler) publicList(c *call, t conversation.Type) error {
	q := c.r.URL.Query()
	allowed := [][]string{pagingParams, publicFilters}
	if h.cfg.PublicChannel == "" {
		allowed = append(allowed, []string{qChannel})
	}
	if err := checkParams(q, allowed...); err != nil {
		return err
	}
	errs := fieldErrs{}
	f := parseFilter(q, errs)
	p := parsePage(q, errs)
	if err := errs.err(); err != nil {
		return err
	}
	page, err := h.svc.PublicList(c.r.Context(), c.channel, t, f, p)
	if err != nil {
		return err
	}
	items, err := h.renderConversations(c, page.Items, true)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, h.page(c, page.Total, page.Next, p.Limit, items))
	return nil
}
