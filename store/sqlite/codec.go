package sqlite

import (
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// micros returns t as INTEGER unix microseconds, the form every time is
// stored in. Precision below a microsecond is dropped (the Service
// truncates before writing, so nothing is lost).
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns the UTC time of unix microseconds us. The zero
// time.Time round-trips: micros(time.Time{}) gives it back.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// convRow holds the scan targets of the conversationColumns, so that a
// listing scans every row into the same ones: one allocation per query,
// not one per column per row. Named string types are scanned through plain
// strings (database/sql would otherwise convert them by reflection).
type convRow struct {
	c                                conversation.Conversation
	typ, itemKind, status, startedBy string
	created, modified, lastMessage   int64
	dest                             []any
}

func newConvRow() *convRow {
	r := &convRow{}
	c := &r.c
	r.dest = []any{&c.ID, &c.Code, &c.Channel, &r.typ, &c.UserID, &c.DataSourceID, &r.itemKind, &c.Item.ID,
		&c.Subject, &r.status, &r.startedBy, &c.Language,
		&c.Attributes.UserFirstName, &c.Attributes.UserLastName, &c.Attributes.ProductBaseCode, &c.Attributes.OrderNumber,
		&r.created, &r.modified, &r.lastMessage, &c.LastMessageID, &c.LastSeq, &c.MessageCount,
		&c.UserRead.ReadSeq, &c.UserRead.Unread, &c.SellerRead.ReadSeq, &c.SellerRead.Unread, &c.Hidden, &c.HiddenMessages}
	return r
}

// scan reads one row.
func (r *convRow) scan(sc scanner) (conversation.Conversation, error) {
	if err := sc.Scan(r.dest...); err != nil {
		return conversation.Conversation{}, err
	}
	c := r.c
	c.Type, c.Item.Kind, c.Status, c.StartedBy = conversation.Type(r.typ), conversation.ItemKind(r.itemKind),
		conversation.Status(r.status), conversation.Side(r.startedBy)
	c.CreatedAt, c.ModifiedAt, c.LastMessageAt = fromMicros(r.created), fromMicros(r.modified), fromMicros(r.lastMessage)
	return c, nil
}

// scanConversation reads one row of the conversationColumns.
func scanConversation(sc scanner) (conversation.Conversation, error) { return newConvRow().scan(sc) }

// conversationArgs are the arguments of sqlInsertConversation.
func conversationArgs(c *conversation.Conversation) []any {
	return []any{c.Code[:], c.Channel, string(c.Type), c.UserID, c.DataSourceID, string(c.Item.Kind), c.Item.ID,
		c.Subject, string(c.Status), string(c.StartedBy), c.Language,
		c.Attributes.UserFirstName, c.Attributes.UserLastName, c.Attributes.ProductBaseCode, c.Attributes.OrderNumber,
		micros(c.CreatedAt), micros(c.ModifiedAt), micros(c.LastMessageAt), c.LastSeq, c.MessageCount,
		c.UserRead.ReadSeq, c.UserRead.Unread, c.SellerRead.ReadSeq, c.SellerRead.Unread}
}

// appliedArgs are the arguments of sqlUpdateApplied.
func appliedArgs(c *conversation.Conversation) []any {
	return []any{micros(c.ModifiedAt), micros(c.LastMessageAt), c.LastMessageID, c.LastSeq, c.MessageCount,
		c.UserRead.ReadSeq, c.UserRead.Unread, c.SellerRead.ReadSeq, c.SellerRead.Unread, c.ID}
}

// msgRow holds the scan targets of the messageColumns (see convRow).
type msgRow struct {
	m                 message.Message
	senderKind, uType string
	created           int64
	dest              []any
}

func newMsgRow() *msgRow {
	r := &msgRow{}
	m := &r.m
	r.dest = []any{&m.ID, &m.ConversationID, &m.Seq, &m.Code, &r.senderKind, &m.Sender.ID, &r.uType,
		&m.Content, &m.Language, &r.created, &m.Hidden}
	return r
}

// scan reads one row.
func (r *msgRow) scan(sc scanner) (message.Message, error) {
	r.m.Code = [16]byte{} // a NULL or empty code scans as no change
	if err := sc.Scan(r.dest...); err != nil {
		return message.Message{}, err
	}
	m := r.m
	m.Sender.Kind, m.Sender.UserType = message.SenderKind(r.senderKind), message.UserType(r.uType)
	m.CreatedAt = fromMicros(r.created)
	return m, nil
}

// scanMessage reads one row of the messageColumns.
func scanMessage(sc scanner) (message.Message, error) { return newMsgRow().scan(sc) }

// messageArgs are the arguments of sqlInsertMessage; id nil lets SQLite
// assign the next id.
func messageArgs(id any, m *message.Message) []any {
	return []any{id, m.ConversationID, m.Seq, m.Code[:], string(m.Sender.Kind), m.Sender.ID, string(m.Sender.UserType),
		m.Content, m.Language, micros(m.CreatedAt)}
}

// scanEvent reads the eventColumns.
func scanEvent(sc scanner) (notify.Event, error) {
	var (
		e                                   notify.Event
		kind, convType, rKind, sKind, state string
		created, due, attempts              int64
	)
	err := sc.Scan(&e.ID, &kind, &e.Channel, &e.ConversationID, &e.MessageID, &convType,
		&rKind, &e.Recipient.ID, &sKind, &e.Sender.ID,
		&created, &due, &e.DigestKey, &state, &attempts, &e.LastError)
	e.Kind, e.ConversationType, e.State = notify.Kind(kind), conversation.Type(convType), notify.State(state)
	e.Recipient.Kind, e.Sender.Kind = message.SenderKind(rKind), message.SenderKind(sKind)
	e.Attempts = int(attempts)
	e.CreatedAt, e.DueAt = fromMicros(created), fromMicros(due)
	return e, err
}

// eventArgs are the arguments of sqlInsertEvent for a new event. The
// outbox bookkeeping is the store's, whatever the caller passed: pending,
// never attempted, no error.
func eventArgs(e *notify.Event) []any {
	return []any{e.ID, string(e.Kind), e.Channel, e.ConversationID, e.MessageID, string(e.ConversationType),
		string(e.Recipient.Kind), e.Recipient.ID, string(e.Sender.Kind), e.Sender.ID,
		micros(e.CreatedAt), micros(e.DueAt), e.DigestKey, string(notify.StatePending), 0, ""}
}

// stored returns t as it reads back from the database: UTC, whole
// microseconds.
func stored(t time.Time) time.Time { return fromMicros(micros(t)) }

// storedConversation returns c with its times as they read back, so that a
// write's result equals what a later read returns.
func storedConversation(c conversation.Conversation) conversation.Conversation {
	c.CreatedAt, c.ModifiedAt, c.LastMessageAt = stored(c.CreatedAt), stored(c.ModifiedAt), stored(c.LastMessageAt)
	return c
}

// storedMessage is storedConversation for a message.
func storedMessage(m message.Message) message.Message {
	m.CreatedAt = stored(m.CreatedAt)
	return m
}
