package parley

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

// ExportFormat names the format of a PersonalData document; it changes
// when a field changes meaning or goes away (fields may be added).
const ExportFormat = "parley.personal-data/1"

// PersonalData is everything a channel stores about one party (a user or a
// data source): the answer to a data-subject access request (GDPR article
// 15, KVKK article 11). Service.Export builds it; it marshals with
// encoding/json to this document (times are RFC 3339 in UTC, ids are
// numbers, codes are UUID strings):
//
//	{
//	  "format": "parley.personal-data/1",
//	  "channel": "1",
//	  "party": {"kind": "user", "id": "545382"},
//	  "exported_at": "2025-03-01T12:00:00Z",
//	  "exported_by": "staff-7",
//	  "conversations": [            // the party's conversations, oldest first
//	    {
//	      "id": 1, "code": "…", "type": "message", "user_id": "545382",
//	      "data_source_id": "1", "item": {"kind": "product", "id": "9"},
//	      "subject": "…", "status": "open", "started_by": "user",
//	      "language": "en",
//	      "attributes": {"user_first_name": "…", "user_last_name": "…",
//	                     "product_base_code": "…", "order_number": "…"},
//	      "created_at": "…", "modified_at": "…", "last_message_at": "…",
//	      "message_count": 2, "hidden": false, "hidden_messages": 0,
//	      "user_read": {"read_seq": 2, "unread": 0},
//	      "seller_read": {"read_seq": 1, "unread": 1},
//	      "messages": [             // every message of both sides, Seq order
//	        {"id": 1, "code": "…", "seq": 1,
//	         "sender": {"kind": "user", "id": "545382", "user_type": "registered"},
//	         "content": "…", "language": "en", "created_at": "…",
//	         "hidden": false, "erased": false}
//	      ]
//	    }
//	  ],
//	  "reports_filed": [ … ],       // reports the party filed, oldest first
//	  "reports_about": [ … ],       // reports of the party's messages
//	  "audit": [ … ]                // audit entries about its conversations
//	                                // or about the party itself (an erasure)
//	}
//
// A report is {"id", "conversation_id", "message_id", "reporter" (a
// sender), "reason", "note", "state", "created_at", and when resolved
// "resolved_at", "resolved_by", "outcome", "resolution_note"}; an audit
// entry is {"id", "staff", "action", "conversation_id", "message_id",
// "report_id", "subject" (a sender, for an erasure), "reason", "at"}.
//
// Hidden content is included, with "hidden": true: hiding keeps it, so
// the party has a right to see it. An erased message has "content": ""
// and "erased": true (see Service.Erase). Lists are empty ([]), never
// null.
type PersonalData struct {
	Format        string                 `json:"format"`
	Channel       string                 `json:"channel"`
	Party         ExportedSender         `json:"party"`
	ExportedAt    time.Time              `json:"exported_at"`
	ExportedBy    string                 `json:"exported_by"`
	Conversations []ExportedConversation `json:"conversations"`
	ReportsFiled  []ExportedReport       `json:"reports_filed"`
	ReportsAbout  []ExportedReport       `json:"reports_about"`
	Audit         []ExportedEntry        `json:"audit"`
}

// ExportedSender is a party in a PersonalData document.
type ExportedSender struct {
	Kind     message.SenderKind `json:"kind"`
	ID       string             `json:"id"`
	UserType message.UserType   `json:"user_type,omitempty"`
}

// ExportedItem is a conversation's item in a PersonalData document.
type ExportedItem struct {
	Kind conversation.ItemKind `json:"kind"`
	ID   string                `json:"id"`
}

// ExportedAttributes are a conversation's stored attributes in a
// PersonalData document.
type ExportedAttributes struct {
	UserFirstName   string `json:"user_first_name"`
	UserLastName    string `json:"user_last_name"`
	ProductBaseCode string `json:"product_base_code"`
	OrderNumber     string `json:"order_number"`
}

// ExportedRead is one side's read state in a PersonalData document.
type ExportedRead struct {
	ReadSeq int64 `json:"read_seq"`
	Unread  int64 `json:"unread"`
}

// ExportedConversation is a conversation, with all its messages, in a
// PersonalData document.
type ExportedConversation struct {
	ID             int64               `json:"id"`
	Code           uuid.UUID           `json:"code"`
	Type           conversation.Type   `json:"type"`
	UserID         string              `json:"user_id"`
	DataSourceID   string              `json:"data_source_id"`
	Item           *ExportedItem       `json:"item"` // null: about nothing
	Subject        string              `json:"subject"`
	Status         conversation.Status `json:"status"`
	StartedBy      conversation.Side   `json:"started_by"`
	Language       string              `json:"language"`
	Attributes     ExportedAttributes  `json:"attributes"`
	CreatedAt      time.Time           `json:"created_at"`
	ModifiedAt     time.Time           `json:"modified_at"`
	LastMessageAt  time.Time           `json:"last_message_at"`
	MessageCount   int64               `json:"message_count"`
	Hidden         bool                `json:"hidden"`
	HiddenMessages int64               `json:"hidden_messages"`
	UserRead       ExportedRead        `json:"user_read"`
	SellerRead     ExportedRead        `json:"seller_read"`
	Messages       []ExportedMessage   `json:"messages"`
}

// ExportedMessage is a message in a PersonalData document.
type ExportedMessage struct {
	ID        int64          `json:"id"`
	Code      uuid.UUID      `json:"code"`
	Seq       int64          `json:"seq"`
	Sender    ExportedSender `json:"sender"`
	Content   string         `json:"content"`
	Language  string         `json:"language"`
	CreatedAt time.Time      `json:"created_at"`
	Hidden    bool           `json:"hidden"`
	Erased    bool           `json:"erased"`
}

// ExportedReport is a report in a PersonalData document.
type ExportedReport struct {
	ID             int64              `json:"id"`
	ConversationID int64              `json:"conversation_id"`
	MessageID      int64              `json:"message_id"`
	Reporter       ExportedSender     `json:"reporter"`
	Reason         moderation.Reason  `json:"reason"`
	Note           string             `json:"note"`
	State          moderation.State   `json:"state"`
	CreatedAt      time.Time          `json:"created_at"`
	ResolvedAt     *time.Time         `json:"resolved_at,omitempty"`
	ResolvedBy     string             `json:"resolved_by,omitempty"`
	Outcome        moderation.Outcome `json:"outcome,omitempty"`
	ResolutionNote string             `json:"resolution_note,omitempty"`
}

// ExportedEntry is an audit entry in a PersonalData document.
type ExportedEntry struct {
	ID             int64             `json:"id"`
	Staff          string            `json:"staff"`
	Action         moderation.Action `json:"action"`
	ConversationID int64             `json:"conversation_id"`
	MessageID      int64             `json:"message_id"`
	ReportID       int64             `json:"report_id"`
	Subject        *ExportedSender   `json:"subject,omitempty"`
	Reason         string            `json:"reason"`
	At             time.Time         `json:"at"`
}

// exportPage is the page size of the reads of an export.
const exportPage = 500

// checkParty validates the party of an export or an erasure.
func (s *Service) checkParty(party message.Sender) error {
	var f fieldErrors
	if !party.Kind.Valid() {
		f.add(FieldSender, fmt.Sprintf("%q is not a valid party kind (user, datasource)", party.Kind))
	}
	s.opts.Limits.id(&f, FieldSender, party.ID)
	return f.err()
}

// Export returns everything the operator's channel stores about party (a
// user or a data source, by Kind and ID; UserType is ignored): its
// conversations with every message of both sides and their read state,
// the reports it filed and those of its messages, and the audit entries
// about its conversations or about it. Hidden content is included. Only
// an operator exports (ErrPermission otherwise), and only from its own
// channel: a party unknown there, or only known in another channel,
// exports as a document with empty lists. The store must implement
// store.Moderation (ErrUnsupported otherwise).
//
// Export reads the party's conversations and their messages, and the
// channel's reports and audit trail, in pages of its own: it is not one
// snapshot, and its cost grows with the channel's reports and audit
// entries. It is meant for the rare data-subject request.
func (s *Service) Export(ctx context.Context, a Actor, party message.Sender) (PersonalData, error) {
	var out PersonalData
	if err := s.operator(a); err != nil {
		return out, err
	}
	if err := s.checkParty(party); err != nil {
		return out, err
	}
	m, err := s.moderator()
	if err != nil {
		return out, err
	}
	out = PersonalData{
		Format: ExportFormat, Channel: a.channel, Party: ExportedSender{Kind: party.Kind, ID: party.ID},
		ExportedAt: s.now(), ExportedBy: a.staff,
		Conversations: []ExportedConversation{}, ReportsFiled: []ExportedReport{}, ReportsAbout: []ExportedReport{}, Audit: []ExportedEntry{},
	}
	convs, err := s.partyConversations(ctx, a.channel, party)
	if err != nil {
		return PersonalData{}, err
	}
	mine := make(map[int64]bool)   // the party's conversations
	sentBy := make(map[int64]bool) // the party's messages
	for _, c := range convs {
		mine[c.ID] = true
		ec := exportConversation(c)
		after := message.After{ConversationID: c.ID, Limit: exportPage}
		for {
			ms, err := s.store.MessagesAfter(ctx, after)
			if err != nil {
				return PersonalData{}, fmt.Errorf("parley: export messages of conversation %d: %w", c.ID, err)
			}
			for _, msg := range ms {
				ec.Messages = append(ec.Messages, exportMessage(msg))
				if msg.Sender.Kind == party.Kind && msg.Sender.ID == party.ID {
					sentBy[msg.ID] = true
				}
			}
			if len(ms) < after.Limit {
				break
			}
			after.ID, after.Seq = ms[len(ms)-1].ID, ms[len(ms)-1].Seq
		}
		out.Conversations = append(out.Conversations, ec)
	}
	var afterID int64
	for {
		page, err := m.ListReports(ctx, store.ReportQuery{Channel: a.channel, AfterID: afterID, Limit: exportPage})
		if err != nil {
			return PersonalData{}, fmt.Errorf("parley: export reports: %w", err)
		}
		for _, r := range page.Items {
			if r.Reporter.Kind == party.Kind && r.Reporter.ID == party.ID {
				out.ReportsFiled = append(out.ReportsFiled, exportReport(r))
			}
			if mine[r.ConversationID] && sentBy[r.MessageID] {
				out.ReportsAbout = append(out.ReportsAbout, exportReport(r))
			}
		}
		if !page.More || len(page.Items) == 0 {
			break
		}
		afterID = page.Items[len(page.Items)-1].ID
	}
	afterID = 0
	for {
		page, err := m.ListAudit(ctx, store.AuditQuery{Channel: a.channel, AfterID: afterID, Limit: exportPage})
		if err != nil {
			return PersonalData{}, fmt.Errorf("parley: export audit: %w", err)
		}
		for _, e := range page.Items {
			if mine[e.ConversationID] || (e.Subject.Kind == party.Kind && e.Subject.ID == party.ID) {
				out.Audit = append(out.Audit, exportEntry(e))
			}
		}
		if !page.More || len(page.Items) == 0 {
			break
		}
		afterID = page.Items[len(page.Items)-1].ID
	}
	return out, nil
}

// partyConversations returns every conversation of party in channel,
// hidden ones included, oldest first (by id).
func (s *Service) partyConversations(ctx context.Context, channel string, party message.Sender) ([]conversation.Conversation, error) {
	q := store.ConversationQuery{Channel: channel, Limit: exportPage}
	if party.Kind == message.SenderUser {
		q.Filter.UserID = party.ID
	} else {
		q.Filter.DataSourceID = party.ID
	}
	var out []conversation.Conversation
	for {
		page, err := s.store.ListConversations(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("parley: export conversations: %w", err)
		}
		out = append(out, page.Items...)
		if !page.More || len(page.Items) == 0 {
			break
		}
		last := page.Items[len(page.Items)-1]
		q.After = &store.ConversationCursor{LastMessageAt: last.LastMessageAt, ID: last.ID}
	}
	// Listings are newest activity first; a document reads best in the
	// order the conversations were started.
	slices.SortFunc(out, func(x, y conversation.Conversation) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

func exportSender(s message.Sender) ExportedSender {
	return ExportedSender{Kind: s.Kind, ID: s.ID, UserType: s.UserType}
}

func exportConversation(c conversation.Conversation) ExportedConversation {
	ec := ExportedConversation{
		ID: c.ID, Code: c.Code, Type: c.Type, UserID: c.UserID, DataSourceID: c.DataSourceID,
		Subject: c.Subject, Status: c.Status, StartedBy: c.StartedBy, Language: c.Language,
		Attributes: ExportedAttributes{
			UserFirstName: c.Attributes.UserFirstName, UserLastName: c.Attributes.UserLastName,
			ProductBaseCode: c.Attributes.ProductBaseCode, OrderNumber: c.Attributes.OrderNumber,
		},
		CreatedAt: c.CreatedAt, ModifiedAt: c.ModifiedAt, LastMessageAt: c.LastMessageAt,
		MessageCount: c.MessageCount, Hidden: c.Hidden, HiddenMessages: c.HiddenMessages,
		UserRead:   ExportedRead{ReadSeq: c.UserRead.ReadSeq, Unread: c.UserRead.Unread},
		SellerRead: ExportedRead{ReadSeq: c.SellerRead.ReadSeq, Unread: c.SellerRead.Unread},
		Messages:   []ExportedMessage{},
	}
	if !c.Item.IsZero() {
		ec.Item = &ExportedItem{Kind: c.Item.Kind, ID: c.Item.ID}
	}
	return ec
}

func exportMessage(m message.Message) ExportedMessage {
	return ExportedMessage{
		ID: m.ID, Code: m.Code, Seq: m.Seq, Sender: exportSender(m.Sender), Content: m.Content,
		Language: m.Language, CreatedAt: m.CreatedAt, Hidden: m.Hidden, Erased: m.Content == store.ErasedContent,
	}
}

func exportReport(r moderation.Report) ExportedReport {
	er := ExportedReport{
		ID: r.ID, ConversationID: r.ConversationID, MessageID: r.MessageID, Reporter: exportSender(r.Reporter),
		Reason: r.Reason, Note: r.Note, State: r.State, CreatedAt: r.CreatedAt,
		ResolvedBy: r.ResolvedBy, Outcome: r.Outcome, ResolutionNote: r.ResolutionNote,
	}
	if r.State == moderation.StateResolved {
		at := r.ResolvedAt
		er.ResolvedAt = &at
	}
	return er
}

func exportEntry(e moderation.Entry) ExportedEntry {
	ee := ExportedEntry{
		ID: e.ID, Staff: e.Staff, Action: e.Action, ConversationID: e.ConversationID,
		MessageID: e.MessageID, ReportID: e.ReportID, Reason: e.Reason, At: e.At,
	}
	if e.Subject.Kind != "" {
		sub := exportSender(e.Subject)
		ee.Subject = &sub
	}
	return ee
}

// Erasure counts what Service.Erase replaced: all zero when the party was
// erased already (or is unknown).
type Erasure struct {
	Messages      int64 // messages whose content became a tombstone
	Conversations int64 // conversations whose subject or attributes were cleared
	Reports       int64 // reports whose note was cleared
}

// Erase erases the personal data of party (a user or a data source, by
// Kind and ID) in the operator's channel, to answer a request for
// erasure (GDPR article 17, KVKK article 7), and records it in the audit
// trail (moderation.ActionPersonErased, with the party as the entry's
// Subject and reason as its Reason, required and validated like message
// content). Only an operator erases (ErrPermission otherwise), and only
// in its own channel. The store must implement store.Privacy
// (ErrUnsupported otherwise).
//
// What is replaced, in one transaction (see store.Privacy): the content
// of every message the party sent becomes a tombstone, an empty Content
// (no written message is empty; a party reading a hidden message also
// gets an empty Content, with Hidden set); the
// subjects of the conversations it started, and, for a user, the
// attributes stored about it (first and last name, order number) become
// empty; the notes of the reports it filed become empty. What is kept:
// every id, code, Seq, time, count and read state, the hidden flags, the
// party's id itself (the program's key, which holds no personal data of
// Parley's), and everything of the other parties. Erasing is idempotent:
// a second Erase replaces nothing (its Erasure is zero), succeeds, and is
// recorded in the audit trail again, as every request is.
func (s *Service) Erase(ctx context.Context, a Actor, party message.Sender, reason string) (Erasure, error) {
	if err := s.operator(a); err != nil {
		return Erasure{}, err
	}
	if err := s.checkParty(party); err != nil {
		return Erasure{}, err
	}
	var f fieldErrors
	s.opts.Limits.content(&f, FieldReason, reason)
	if err := f.err(); err != nil {
		return Erasure{}, err
	}
	p, ok := store.As[store.Privacy](s.store)
	if !ok {
		return Erasure{}, fmt.Errorf("parley: %T does not implement store.Privacy: %w", s.store, ErrUnsupported)
	}
	subject := message.Sender{Kind: party.Kind, ID: party.ID}
	res, err := p.EraseParty(ctx, store.EraseParams{
		Channel: a.channel, Party: subject,
		Audit: moderation.Entry{
			Channel: a.channel, Staff: a.staff, Action: moderation.ActionPersonErased,
			Subject: subject, Reason: reason, At: s.now(),
		},
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("parley: erase %s %s: %w", party.Kind, party.ID, err)
	}
	return Erasure(res), nil
}
