package webhook

import (
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/notify"
)

// Payload is the JSON body of a webhook request: a notify.Notification in
// a stable wire format.
type Payload struct {
	// Key is the idempotency key (also in the X-Parley-Idempotency-Key
	// header).
	Key          string       `json:"key"`
	Recipient    Party        `json:"recipient"`
	Events       []Event      `json:"events"`
	Conversation Conversation `json:"conversation"`
	// Messages are the messages the recipient has not read, oldest first.
	Messages []Message `json:"messages"`
}

// Party is a user ("user") or a data source ("datasource").
type Party struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Event is one event of the notification.
type Event struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Channel        string    `json:"channel"`
	ConversationID int64     `json:"conversation_id"`
	MessageID      int64     `json:"message_id"`
	Sender         Party     `json:"sender"`
	CreatedAt      time.Time `json:"created_at"`
}

// Item is what a conversation is about.
type Item struct {
	Kind string `json:"kind"` // "product" or "orderitem"
	ID   string `json:"id"`
}

// Conversation is the conversation the notification is about.
type Conversation struct {
	ID            int64     `json:"id"`
	Code          uuid.UUID `json:"code"`
	Channel       string    `json:"channel"`
	Type          string    `json:"type"`
	UserID        string    `json:"user_id"`
	DataSourceID  string    `json:"data_source_id"`
	Item          *Item     `json:"item"` // null: about nothing in particular
	Subject       string    `json:"subject"`
	Status        string    `json:"status"`
	StartedBy     string    `json:"started_by"`
	Language      string    `json:"language,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	ModifiedAt    time.Time `json:"modified_at"`
	LastMessageAt time.Time `json:"last_message_at"`
	MessageCount  int64     `json:"message_count"`
}

// Sender is the author of a message.
type Sender struct {
	Kind     string `json:"kind"`
	ID       string `json:"id"`
	UserType string `json:"user_type,omitempty"` // "registered" or "guest", for users
}

// Message is one message of the notification.
type Message struct {
	ID        int64     `json:"id"`
	Code      uuid.UUID `json:"code"`
	Seq       int64     `json:"seq"`
	Sender    Sender    `json:"sender"`
	Content   string    `json:"content"`
	Language  string    `json:"language,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// NewPayload returns the payload of n.
func NewPayload(n notify.Notification) Payload {
	c := n.Conversation
	p := Payload{
		Key:       n.Key,
		Recipient: party(n.Recipient),
		Events:    make([]Event, len(n.Events)),
		Conversation: Conversation{
			ID: c.ID, Code: c.Code, Channel: c.Channel, Type: string(c.Type),
			UserID: c.UserID, DataSourceID: c.DataSourceID, Subject: c.Subject,
			Status: string(c.Status), StartedBy: string(c.StartedBy), Language: c.Language,
			CreatedAt: c.CreatedAt, ModifiedAt: c.ModifiedAt, LastMessageAt: c.LastMessageAt,
			MessageCount: c.MessageCount,
		},
		Messages: make([]Message, len(n.Messages)),
	}
	if !c.Item.IsZero() {
		p.Conversation.Item = &Item{Kind: string(c.Item.Kind), ID: c.Item.ID}
	}
	for i, e := range n.Events {
		p.Events[i] = Event{
			ID: e.ID, Kind: string(e.Kind), Channel: e.Channel,
			ConversationID: e.ConversationID, MessageID: e.MessageID,
			Sender: party(e.Sender), CreatedAt: e.CreatedAt,
		}
	}
	for i, m := range n.Messages {
		p.Messages[i] = Message{
			ID: m.ID, Code: m.Code, Seq: m.Seq,
			Sender:  Sender{Kind: string(m.Sender.Kind), ID: m.Sender.ID, UserType: string(m.Sender.UserType)},
			Content: m.Content, Language: m.Language, CreatedAt: m.CreatedAt,
		}
	}
	return p
}

func party(p notify.Party) Party { return Party{Kind: string(p.Kind), ID: p.ID} }
