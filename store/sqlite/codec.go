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

// scanConversation reads the conversationColumns.
func scanConversation(sc scanner) (conversation.Conversation, error) {
	var (
		c                                conversation.Conversation
		typ, itemKind, status, startedBy string
		created, modified, lastMessage   int64
	)
	// Named string types are scanned through plain strings: database/sql
	// would otherwise convert them by reflection.
	err := sc.Scan(&c.ID, &c.Code, &c.Channel, &typ, &c.UserID, &c.DataSourceID, &itemKind, &c.Item.ID,
		&c.Subject, &status, &startedBy, &c.Language,
		&c.Attributes.UserFirstName, &c.Attributes.UserLastName, &c.Attributes.ProductBaseCode, &c.Attributes.OrderNumber,
		&created, &modified, &lastMessage, &c.LastMessageID, &c.LastSeq, &c.MessageCount,
		&c.UserRead.ReadSeq, &c.UserRead.Unread, &c.SellerRead.ReadSeq, &c.SellerRead.Unread)
	c.Type, c.Item.Kind, c.Status, c.StartedBy = conversation.Type(typ), conversation.ItemKind(itemKind),
		conversation.Status(status), conversation.Side(startedBy)
	c.CreatedAt, c.ModifiedAt, c.LastMessageAt = fromMicros(created), fromMicros(modified), fromMicros(lastMessage)
	return c, err
}

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

// scanMessage reads the messageColumns.
func scanMessage(sc scanner) (message.Message, error) {
	var (
		m                 message.Message
		senderKind, uType string
		created           int64
	)
	err := sc.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.Code, &senderKind, &m.Sender.ID, &uType,
		&m.Content, &m.Language, &created)
	m.Sender.Kind, m.Sender.UserType = message.SenderKind(senderKind), message.UserType(uType)
	m.CreatedAt = fromMicros(created)
	return m, err
}

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
