package postgres

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// column is a column of a result row, with the SQL value that stands in
// for it when a query's outer join finds no row.
type column struct {
	name string
	zero string
}

// convColumns are the columns of conversations, in the order of
// scanConversation.
var convColumns = []column{
	{"id", "0"},
	{"code", "'00000000-0000-0000-0000-000000000000'::uuid"},
	{"channel", "''"},
	{"type", "''"},
	{"user_id", "''"},
	{"datasource_id", "''"},
	{"item_kind", "''"},
	{"item_id", "''"},
	{"subject", "''"},
	{"status", "''"},
	{"started_by", "''"},
	{"language", "''"},
	{"user_first_name", "''"},
	{"user_last_name", "''"},
	{"product_base_code", "''"},
	{"order_number", "''"},
	{"created_at", "'epoch'::timestamptz"},
	{"modified_at", "'epoch'::timestamptz"},
	{"last_message_at", "'epoch'::timestamptz"},
	{"last_message_id", "0"},
	{"last_seq", "0"},
	{"message_count", "0"},
	{"user_read_seq", "0"},
	{"user_unread", "0"},
	{"seller_read_seq", "0"},
	{"seller_unread", "0"},
	{"hidden", "false"},
	{"hidden_messages", "0"},
}

// messageColumns are the columns of messages, in the order of
// scanMessage.
var messageColumns = []column{
	{"id", "0"},
	{"code", "'00000000-0000-0000-0000-000000000000'::uuid"},
	{"conversation_id", "0"},
	{"seq", "0"},
	{"sender_kind", "''"},
	{"sender_id", "''"},
	{"sender_user_type", "''"},
	{"content", "''"},
	{"language", "''"},
	{"created_at", "'epoch'::timestamptz"},
	{"hidden", "false"},
}

// eventColumns are the columns of events, in the order of scanEvent.
var eventColumns = []column{
	{"id", "''"},
	{"kind", "''"},
	{"channel", "''"},
	{"conversation_id", "0"},
	{"message_id", "0"},
	{"conversation_type", "''"},
	{"recipient_kind", "''"},
	{"recipient_id", "''"},
	{"sender_kind", "''"},
	{"sender_id", "''"},
	{"created_at", "'epoch'::timestamptz"},
	{"due_at", "'epoch'::timestamptz"},
	{"digest_key", "''"},
	{"state", "''"},
	{"attempts", "0"},
	{"last_error", "''"},
}

// list returns the columns qualified by alias ("" for none), comma
// separated.
func list(cols []column, alias string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if alias != "" {
			b.WriteString(alias)
			b.WriteByte('.')
		}
		b.WriteString(c.name)
	}
	return b.String()
}

// coalesced returns the columns of alias, each replaced by its zero value
// when the outer join that produced alias found no row.
func coalesced(cols []column, alias string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("coalesce(" + alias + "." + c.name + ", " + c.zero + ")")
	}
	return b.String()
}

// convScan holds the destinations of one conversation row.
type convScan struct {
	c    conversation.Conversation
	dest [28]any
}

// newConvScan returns a convScan whose dest points into its own
// conversation.
func newConvScan() *convScan {
	s := &convScan{}
	c := &s.c
	s.dest = [28]any{
		&c.ID, &c.Code, &c.Channel, &c.Type, &c.UserID, &c.DataSourceID,
		&c.Item.Kind, &c.Item.ID, &c.Subject, &c.Status, &c.StartedBy, &c.Language,
		&c.Attributes.UserFirstName, &c.Attributes.UserLastName,
		&c.Attributes.ProductBaseCode, &c.Attributes.OrderNumber,
		&c.CreatedAt, &c.ModifiedAt, &c.LastMessageAt,
		&c.LastMessageID, &c.LastSeq, &c.MessageCount,
		&c.UserRead.ReadSeq, &c.UserRead.Unread, &c.SellerRead.ReadSeq, &c.SellerRead.Unread,
		&c.Hidden, &c.HiddenMessages,
	}
	return s
}

// result returns the scanned conversation with its times in UTC.
func (s *convScan) result() conversation.Conversation {
	c := s.c
	c.CreatedAt = utc(c.CreatedAt)
	c.ModifiedAt = utc(c.ModifiedAt)
	c.LastMessageAt = utc(c.LastMessageAt)
	return c
}

// messageScan holds the destinations of one message row.
type messageScan struct {
	m    message.Message
	dest [11]any
}

func newMessageScan() *messageScan {
	s := &messageScan{}
	m := &s.m
	s.dest = [11]any{
		&m.ID, &m.Code, &m.ConversationID, &m.Seq,
		&m.Sender.Kind, &m.Sender.ID, &m.Sender.UserType,
		&m.Content, &m.Language, &m.CreatedAt, &m.Hidden,
	}
	return s
}

func (s *messageScan) result() message.Message {
	m := s.m
	m.CreatedAt = utc(m.CreatedAt)
	return m
}

// eventScan holds the destinations of one event row.
type eventScan struct {
	e    notify.Event
	dest [16]any
}

func newEventScan() *eventScan {
	s := &eventScan{}
	e := &s.e
	s.dest = [16]any{
		&e.ID, &e.Kind, &e.Channel, &e.ConversationID, &e.MessageID, &e.ConversationType,
		&e.Recipient.Kind, &e.Recipient.ID, &e.Sender.Kind, &e.Sender.ID,
		&e.CreatedAt, &e.DueAt, &e.DigestKey, &e.State, &e.Attempts, &e.LastError,
	}
	return s
}

func (s *eventScan) result() notify.Event {
	e := s.e
	e.CreatedAt = utc(e.CreatedAt)
	e.DueAt = utc(e.DueAt)
	return e
}

// utc returns t in UTC; pgx returns timestamptz values in the local zone.
func utc(t time.Time) time.Time { return t.UTC() }

// conversationArgs returns the values of every conversation column but
// id, in convColumns order.
func conversationArgs(c *conversation.Conversation) []any {
	return []any{
		uuidArg(c.Code), c.Channel, string(c.Type), c.UserID, c.DataSourceID,
		string(c.Item.Kind), c.Item.ID, c.Subject, string(c.Status), string(c.StartedBy), c.Language,
		c.Attributes.UserFirstName, c.Attributes.UserLastName,
		c.Attributes.ProductBaseCode, c.Attributes.OrderNumber,
		c.CreatedAt, c.ModifiedAt, c.LastMessageAt,
		c.LastSeq, c.MessageCount,
		c.UserRead.ReadSeq, c.UserRead.Unread, c.SellerRead.ReadSeq, c.SellerRead.Unread,
	}
}

// uuidArg returns u as a parameter that pgx encodes directly (a
// uuid.UUID goes through its driver.Valuer: a string, parsed again).
func uuidArg(u uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: u, Valid: true} }

// noEvents are the column arrays of no events, made once: they are only
// read.
var noEvents = makeEventArrays(nil)

// eventArrays returns the events as the column arrays that the write
// statements unnest, in the order of eventsInsert.
func eventArrays(events []notify.Event) []any {
	if len(events) == 0 {
		return noEvents
	}
	return makeEventArrays(events)
}

func makeEventArrays(events []notify.Event) []any {
	n := len(events)
	ids, kinds, channels, ctypes := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	rkinds, rids, skinds, sids := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	created, due, digest := make([]time.Time, n), make([]time.Time, n), make([]string, n)
	for i, e := range events {
		ids[i], kinds[i], channels[i], ctypes[i] = e.ID, string(e.Kind), e.Channel, string(e.ConversationType)
		rkinds[i], rids[i], skinds[i], sids[i] = string(e.Recipient.Kind), e.Recipient.ID, string(e.Sender.Kind), e.Sender.ID
		created[i], due[i], digest[i] = e.CreatedAt, e.DueAt, e.DigestKey
	}
	return []any{ids, kinds, channels, ctypes, rkinds, rids, skinds, sids, created, due, digest}
}
