package conversationsv1

import (
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/message"
)

// eventJSON is the data of one event of the stream, in seed 000's words:
// the conversation, its user and datasource, the side that acted
// (content_type: "user" or "datasource"), the message written or read up
// to, and the new status of a status change.
type eventJSON struct {
	ID           int64          `json:"id"`
	Type         string         `json:"type"`
	Conversation int64          `json:"conversation"`
	User         httpapi.FlexID `json:"user"`
	DataSource   httpapi.FlexID `json:"datasource"`
	ContentType  string         `json:"content_type"`
	Message      *int64         `json:"message"`
	Seq          *int64         `json:"seq"`
	Status       *string        `json:"status"`
	CreatedDate  string         `json:"created_date"`
}

func eventData(ev parley.Event) any {
	e := eventJSON{
		ID: ev.Position, Type: string(ev.Kind), Conversation: ev.ConversationID,
		User: httpapi.FlexID(ev.UserID), DataSource: httpapi.FlexID(ev.DataSourceID),
		ContentType: string(ev.Side), CreatedDate: formatTime(ev.At),
	}
	if ev.MessageID != 0 {
		e.Message, e.Seq = &ev.MessageID, &ev.Seq
	}
	e.Status = optString(string(ev.Status))
	return e
}

// events serves GET .../events/: the caller's changes as server-sent
// events (see httpapi.Call.ServeEvents). An integration sees its whole
// channel, or names a party with content_type and content_id.
func (d *dialect) events(c *httpapi.Call) error {
	q := c.R.URL.Query()
	if err := checkParams(q, []string{fContentType, fContentID, httpapi.LastEventIDParam}); err != nil {
		return err
	}
	a := c.Actor
	if kind, id := message.SenderKind(q.Get(fContentType)), q.Get(fContentID); kind != "" || id != "" {
		if !kind.Valid() {
			return httpapi.Invalid(fContentType, notAChoice(string(kind)))
		}
		var err error
		if a, err = writer(c, kind, id, ""); err != nil {
			return err
		}
	}
	return c.ServeEvents(d.svc, a, eventData)
}
