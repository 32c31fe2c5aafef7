package conversationsv1

import (
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
	"github.com/parleyhq/parley/moderation"
)

// The report fields.
const (
	fReason = "reason"
	fNote   = "note"
)

// reportJSON is a filed report as its reporter sees it.
type reportJSON struct {
	ID           int64  `json:"id"`
	Conversation int64  `json:"conversation"`
	Message      int64  `json:"message"`
	Reason       string `json:"reason"`
	Note         string `json:"note"`
	State        string `json:"state"`
	CreatedDate  string `json:"created_date"`
}

// reportMessage serves POST .../messages/{id}/report/: the caller
// reports message id of the conversation named in the body, with a
// reason from the fixed set (spam, abuse, contact_details,
// personal_data, illegal, other) and an optional note. A party reports
// the messages of its conversations, anyone of the channel those of a
// public question or review. A new report is 201; the same reporter's
// second report of the message answers the first, 200. An integration
// names the reporter with content_type and content_id.
func (d *dialect) reportMessage(c *httpapi.Call) error {
	id, ok := wire.PositiveInt(c.R.PathValue("id"))
	if !ok {
		return httpapi.NewProblem(httpapi.CodeNotFound)
	}
	o, err := c.Object(false)
	if err != nil {
		return err
	}
	reason, note := o.String(fReason), o.String(fNote)
	req, err := decodeObject(o)
	if err != nil {
		return err
	}
	errs := httpapi.Fields{}
	if req.Conversation == 0 {
		errs.Add(fConversation, "is required")
	}
	if !o.Has(fReason) {
		errs.Add(fReason, "is required")
	} else if !moderation.Reason(reason).Valid() {
		errs.Add(fReason, notAChoice(reason)+" Choose one of: "+reasonList())
	}
	if err := errs.Err(); err != nil {
		return err
	}
	a, err := writer(c, req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	r, created, err := d.svc.Report(c.R.Context(), a, parley.ReportRequest{
		ConversationID: req.Conversation, MessageID: id, Reason: moderation.Reason(reason), Note: note,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, reportJSON{ID: r.ID, Conversation: r.ConversationID, Message: r.MessageID, Reason: string(r.Reason),
		Note: r.Note, State: string(r.State), CreatedDate: formatTime(r.CreatedAt)})
	return nil
}

func reasonList() string {
	s := make([]string, len(moderation.Reasons))
	for i, r := range moderation.Reasons {
		s[i] = string(r)
	}
	return strings.Join(s, ", ") + "."
}
