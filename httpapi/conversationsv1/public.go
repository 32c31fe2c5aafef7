package conversationsv1

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
)

// publicChannelOf is the channel the public listings show: the Options'
// PublicChannel, or else the channel query parameter.
func (d *dialect) publicChannelOf(c *httpapi.Call) string {
	if d.opts.PublicChannel != "" {
		return d.opts.PublicChannel
	}
	return c.R.URL.Query().Get(qChannel)
}

// publicQuestions serves GET /public-questions/.
func (d *dialect) publicQuestions(c *httpapi.Call) error {
	return d.publicList(c, conversation.TypeQuestion)
}

// publicReviews serves GET /public-reviews/.
func (d *dialect) publicReviews(c *httpapi.Call) error {
	return d.publicList(c, conversation.TypeReview)
}

// publicList lists the public conversations of type t with seed 000's
// public filters. Users appear as bare ids, and no object carries an email
// address or a phone number.
func (d *dialect) publicList(c *httpapi.Call, t conversation.Type) error {
	q := c.R.URL.Query()
	allowed := [][]string{pagingParams, publicFilters}
	if d.opts.PublicChannel == "" {
		allowed = append(allowed, []string{qChannel})
	}
	if err := checkParams(q, allowed...); err != nil {
		return err
	}
	errs := httpapi.Fields{}
	channel := d.publicChannelOf(c)
	if channel == "" {
		errs.Add(qChannel, "is required")
	}
	f := parseFilter(q, errs)
	pp := parsePage(q, errs)
	if err := errs.Err(); err != nil {
		return err
	}
	page, err := fetch(c, pp, func(p parley.PageRequest) (parley.Page[parley.ConversationMessages], error) {
		return d.svc.PublicListWithMessages(c.R.Context(), channel, t, f, p, d.setSize(p))
	})
	if err != nil {
		return httpapi.Rename(err, filterNames)
	}
	items, err := d.renderConversations(c, page.Items, true)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, listing(c, pp, page.Total, page.Next, items))
	return nil
}
