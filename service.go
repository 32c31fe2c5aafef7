package parley

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// Service enforces Parley's rules over a store. It is safe for concurrent
// use; create one with New and share it.
type Service struct {
	store   store.Store
	opts    Options
	waiters *hub
}

// New returns a Service over st with the given options (start from
// DefaultOptions). The Service does not own st: closing st is the
// caller's job.
func New(st store.Store, opts Options) (*Service, error) {
	if st == nil {
		return nil, errors.New("parley: store is nil")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Service{store: st, opts: opts, waiters: newHub()}, nil
}

// now returns the current time at the stores' precision, in UTC.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(store.TimePrecision) }

func (s *Service) code() (uuid.UUID, error) {
	c, err := s.opts.NewCode()
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("parley: new code: %w", err)
	}
	return c, nil
}

// StartRequest starts a conversation with its first message (seed 000's
// conversation create).
type StartRequest struct {
	Type conversation.Type
	// UserID is the user the conversation is with. A user starting a
	// conversation may leave it empty (it is the user); naming another
	// user is ErrPermission. A seller must set it.
	UserID string
	// DataSourceID is the seller. A seller may leave it empty (it is the
	// seller's data source); naming another is ErrPermission. A user must
	// set it.
	DataSourceID string
	Item         conversation.Item
	Subject      string
	Content      string
	Language     string
	// IdempotencyKey, if set, makes the start safe to retry: the same
	// actor retrying with the same key gets the first result.
	IdempotencyKey string
}

// Result is a write's outcome: the conversation as the write left it and
// the message written. Replayed is true when an idempotency key matched an
// earlier request and nothing new was written.
type Result struct {
	Conversation conversation.Conversation
	Message      message.Message
	Replayed     bool
}

// Start starts a conversation between a user and a data source with its
// first message. Users start messages, questions and reviews; sellers
// start only messages (ErrSellerStart, or ErrReviewReply for a review).
// There is one conversation per user, data source, type and item: a
// second start returns a *ConversationExistsError with the first one's id.
func (s *Service) Start(ctx context.Context, a Actor, r StartRequest) (Result, error) {
	sender, side, err := s.writer(a)
	if err != nil {
		return Result{}, err
	}
	userID, dsID := r.UserID, r.DataSourceID
	if side == conversation.SideUser {
		if userID != "" && userID != sender.ID {
			return Result{}, denied("user", sender.ID, "cannot start a conversation for user", userID)
		}
		userID = sender.ID
	} else {
		if dsID != "" && dsID != sender.ID {
			return Result{}, denied("data source", sender.ID, "cannot start a conversation for data source", dsID)
		}
		dsID = sender.ID
	}

	l := s.opts.Limits
	var f fieldErrors
	if !r.Type.Valid() {
		f.add(FieldConversationType, fmt.Sprintf("%q is not a valid choice (message, question, review)", r.Type))
	}
	l.id(&f, FieldUser, userID)
	l.id(&f, FieldDataSource, dsID)
	l.item(&f, r.Item)
	l.subject(&f, r.Subject)
	l.content(&f, FieldMessageContent, r.Content)
	language(&f, r.Language)
	idempotencyKey(&f, r.IdempotencyKey)
	if err := f.err(); err != nil {
		return Result{}, err
	}
	if side == conversation.SideSeller {
		switch r.Type {
		case conversation.TypeReview:
			return Result{}, ErrReviewReply
		case conversation.TypeQuestion:
			return Result{}, ErrSellerStart
		}
	}

	idem := s.idempotency(a, r.IdempotencyKey, "start", string(r.Type), userID, dsID,
		string(r.Item.Kind), r.Item.ID, r.Subject, r.Content, r.Language)
	sc, err := s.screen(ctx, a.channel, r.Type, sender, r.Subject, r.Content)
	if err != nil {
		return Result{}, err
	}
	var attrs conversation.Attributes
	if s.opts.Lookup != nil {
		// The lookup asks the program's world, which may have changed
		// since a first attempt: a retry is answered first.
		if idem != nil {
			res, ok, err := s.store.Replay(ctx, *idem)
			if err != nil {
				return Result{}, fmt.Errorf("parley: start conversation: %w", err)
			}
			if ok {
				return Result(res), nil
			}
		}
		q := LookupQuery{Channel: a.channel, UserID: userID, DataSourceID: dsID, Item: r.Item}
		if attrs, err = s.opts.Lookup.ConversationAttributes(ctx, q); err != nil {
			return Result{}, fmt.Errorf("parley: lookup: %w", err)
		}
	}

	now := s.now()
	convCode, err := s.code()
	if err != nil {
		return Result{}, err
	}
	msgCode, err := s.code()
	if err != nil {
		return Result{}, err
	}
	evID, err := s.code()
	if err != nil {
		return Result{}, err
	}
	c := conversation.Conversation{
		Code: convCode, Channel: a.channel, Type: r.Type,
		UserID: userID, DataSourceID: dsID, Item: r.Item, Subject: sc.subject,
		Status: conversation.StatusOpen, StartedBy: side, Language: r.Language,
		Attributes: attrs, CreatedAt: now,
	}
	m := message.Message{Code: msgCode, Sender: sender, Content: sc.content, Language: r.Language, CreatedAt: now}
	ev := s.event(evID, notify.KindConversationStarted, c, sender, now)
	p := store.CreateParams{Conversation: c, Message: m, Events: s.outboxEvents(ev), Idempotency: idem}
	res, err := s.store.CreateConversation(ctx, p)
	var exists *store.ConversationExistsError
	if errors.As(err, &exists) {
		err = &ConversationExistsError{ID: exists.ID}
	}
	if err != nil {
		return Result{}, fmt.Errorf("parley: start conversation: %w", err)
	}
	out := Result(res)
	if !out.Replayed {
		ev.ConversationID, ev.MessageID = out.Conversation.ID, out.Message.ID
		s.flag(ctx, sc.flag, a.channel, out.Conversation.ID, out.Message.ID)
		s.delivered(ctx, ev, out)
	}
	return out, nil
}

// PostRequest adds a message to an existing conversation.
type PostRequest struct {
	ConversationID int64
	Content        string
	Language       string
	IdempotencyKey string
}

// Post adds a message to a conversation of the actor's. A data source
// cannot write into a review (ErrReviewReply); a closed conversation takes
// no messages (ErrConversationClosed). A retry with the same
// IdempotencyKey returns the first result, even if the conversation was
// closed since.
func (s *Service) Post(ctx context.Context, a Actor, r PostRequest) (Result, error) {
	sender, _, err := s.writer(a)
	if err != nil {
		return Result{}, err
	}
	var f fieldErrors
	if r.ConversationID <= 0 {
		f.add(FieldConversation, "must be a conversation id")
	}
	s.opts.Limits.content(&f, FieldMessageContent, r.Content)
	language(&f, r.Language)
	idempotencyKey(&f, r.IdempotencyKey)
	if err := f.err(); err != nil {
		return Result{}, err
	}
	// The screener does not know the conversation's type before the
	// write: it is screened as a message of unknown type.
	sc, err := s.screen(ctx, a.channel, "", sender, "", r.Content)
	if err != nil {
		return Result{}, err
	}
	now := s.now()
	code, err := s.code()
	if err != nil {
		return Result{}, err
	}
	evID, err := s.code()
	if err != nil {
		return Result{}, err
	}
	// The rules run in the store's write, on the conversation as the
	// write finds it and after the idempotency lookup; the event is built
	// from that conversation. No read comes before the write.
	var ev notify.Event
	var refused error
	p := store.AppendParams{
		ConversationID: r.ConversationID,
		Message:        message.Message{Code: code, Sender: sender, Content: sc.content, Language: r.Language, CreatedAt: now},
		Prepare: func(c conversation.Conversation) ([]notify.Event, error) {
			if refused = mayPost(a, sender, c); refused != nil {
				return nil, refused
			}
			ev = s.event(evID, notify.KindMessagePosted, c, sender, now)
			return s.outboxEvents(ev), nil
		},
		Idempotency: s.idempotency(a, r.IdempotencyKey, "post", strconv.FormatInt(r.ConversationID, 10), r.Content, r.Language),
	}
	res, err := s.store.AppendMessage(ctx, p)
	if err != nil {
		return Result{}, storeError("post message", err, refused)
	}
	out := Result(res)
	if !out.Replayed {
		ev.ConversationID, ev.MessageID = out.Conversation.ID, out.Message.ID
		s.waiters.publish(out.Conversation.ID)
		s.flag(ctx, sc.flag, a.channel, out.Conversation.ID, out.Message.ID)
		s.delivered(ctx, ev, out)
	}
	return out, nil
}

// mayPost is the rule for adding a message by sender, acting as a, to c:
// the actor may see c, a data source cannot write into a review, and a
// closed conversation takes no message.
func mayPost(a Actor, sender message.Sender, c conversation.Conversation) error {
	if err := mayAccess(a, c); err != nil {
		return err
	}
	if c.Type == conversation.TypeReview && sender.Kind == message.SenderDataSource {
		return ErrReviewReply
	}
	if c.Status == conversation.StatusClosed {
		return ErrConversationClosed
	}
	return nil
}

// Get returns a conversation the actor may see.
func (s *Service) Get(ctx context.Context, a Actor, id int64) (conversation.Conversation, error) {
	if err := s.checkActor(a); err != nil {
		return conversation.Conversation{}, err
	}
	return s.conversation(ctx, a, id)
}

// GetByCode returns the conversation with the given code (seed 001's
// conversation code), with the rules of Get: another channel's
// conversation is not found, another party's is ErrPermission. It is one
// indexed lookup in the store.
func (s *Service) GetByCode(ctx context.Context, a Actor, code uuid.UUID) (conversation.Conversation, error) {
	if err := s.checkActor(a); err != nil {
		return conversation.Conversation{}, err
	}
	if code == uuid.Nil {
		return conversation.Conversation{}, &ValidationError{Field: FieldConversation, Reason: "must be a conversation code"}
	}
	c, err := s.store.GetConversationByCode(ctx, code)
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("parley: conversation %s: %w", code, err)
	}
	if err := mayAccess(a, c); err != nil {
		return conversation.Conversation{}, err
	}
	return c, nil
}

// SetStatus closes or reopens a conversation of the actor's (seed 001's
// conversation status). Either side may do it, except for a review, which
// only its reviewer or an operator may close or reopen (ErrReviewStatus):
// a seller cannot reply to a review, and closing it would silence the
// reviewer. An operator may close or reopen any conversation of its
// channel.
func (s *Service) SetStatus(ctx context.Context, a Actor, id int64, st conversation.Status) (conversation.Conversation, error) {
	var side conversation.Side
	if a.kind == ActorOperator {
		if err := s.checkActor(a); err != nil {
			return conversation.Conversation{}, err
		}
	} else {
		var err error
		if _, side, err = s.writer(a); err != nil {
			return conversation.Conversation{}, err
		}
	}
	if !st.Valid() {
		return conversation.Conversation{}, &ValidationError{Field: FieldStatus, Reason: fmt.Sprintf("%q is not a valid choice (open, closed)", st)}
	}
	if id <= 0 {
		return conversation.Conversation{}, &ValidationError{Field: FieldConversation, Reason: "must be a conversation id"}
	}
	var refused error
	c, err := s.store.SetStatus(ctx, store.StatusParams{
		ConversationID: id, Status: st, At: s.now(),
		Check: func(c conversation.Conversation) error {
			refused = mayChangeStatus(a, side, c)
			return refused
		},
	})
	if err != nil {
		return conversation.Conversation{}, storeError("set status", err, refused)
	}
	return c, nil
}

// mayChangeStatus is the rule for closing or reopening c by side (none
// for an operator), acting as a: the actor may see c, and a seller never
// closes or reopens a review.
func mayChangeStatus(a Actor, side conversation.Side, c conversation.Conversation) error {
	if err := mayAccess(a, c); err != nil {
		return err
	}
	if c.Type == conversation.TypeReview && side == conversation.SideSeller {
		return ErrReviewStatus
	}
	return nil
}

// MarkRead records that the actor has read a conversation up to and
// including the given message, and returns the conversation with its
// updated read state. Read positions only move forward.
func (s *Service) MarkRead(ctx context.Context, a Actor, conversationID, upToMessageID int64) (conversation.Conversation, error) {
	_, side, err := s.writer(a)
	if err != nil {
		return conversation.Conversation{}, err
	}
	if conversationID <= 0 {
		return conversation.Conversation{}, &ValidationError{Field: FieldConversation, Reason: "must be a conversation id"}
	}
	if upToMessageID <= 0 {
		return conversation.Conversation{}, &ValidationError{Field: FieldMessage, Reason: "must be a message id"}
	}
	var refused error
	c, err := s.store.MarkRead(ctx, store.ReadParams{
		ConversationID: conversationID, Side: side, UpToMessageID: upToMessageID,
		Check: func(c conversation.Conversation) error {
			refused = mayAccess(a, c)
			return refused
		},
	})
	if err != nil {
		return conversation.Conversation{}, storeError("mark read", err, refused)
	}
	return c, nil
}

// UnreadSummary is a party's unread totals in its channel.
type UnreadSummary struct {
	// Messages is the number of unread messages in all the party's
	// conversations: the other side's messages after the party's read
	// position.
	Messages int64
	// Conversations is the number of the party's conversations with
	// unread messages.
	Conversations int64
}

// Unread returns the unread totals of the actor (a user, a seller, or an
// integration acting for one). Stores keep these totals per party in the
// transaction of every write (see store.PartyTotals), so Unread reads a
// fixed number of rows: it costs the same for a seller with 100 or
// 100,000 conversations.
func (s *Service) Unread(ctx context.Context, a Actor) (UnreadSummary, error) {
	sender, side, err := s.writer(a)
	if err != nil {
		return UnreadSummary{}, err
	}
	u, err := s.store.Unread(ctx, store.UnreadQuery{Channel: a.channel, Side: side, PartyID: sender.ID})
	if err != nil {
		return UnreadSummary{}, fmt.Errorf("parley: unread: %w", err)
	}
	return UnreadSummary(u), nil
}

// writer returns the sender the actor writes as.
func (s *Service) writer(a Actor) (message.Sender, conversation.Side, error) {
	if err := s.checkActor(a); err != nil {
		return message.Sender{}, "", err
	}
	if a.kind == ActorOperator {
		return message.Sender{}, "", denied(a.String(), "never writes as a party")
	}
	sender, ok := a.Sender()
	if !ok {
		return message.Sender{}, "", denied("an integration must name the party it acts for")
	}
	return sender, conversation.Side(sender.Kind), nil
}

// checkActor checks an actor built by the program, against the
// Service's limits.
func (s *Service) checkActor(a Actor) error {
	if a.kind < ActorUser || a.kind > ActorOperator {
		return denied("invalid actor")
	}
	var f fieldErrors
	s.opts.Limits.id(&f, FieldChannel, a.channel)
	if a.kind == ActorOperator {
		s.opts.Limits.id(&f, FieldStaff, a.staff)
	}
	if p, ok := a.Sender(); ok {
		s.opts.Limits.id(&f, FieldSender, p.ID)
		if p.Kind == message.SenderUser && !p.UserType.Valid() {
			f.add(FieldSender, "unknown user type")
		}
	}
	return f.err()
}

// conversation loads a conversation that the actor may see (mayAccess).
func (s *Service) conversation(ctx context.Context, a Actor, id int64) (conversation.Conversation, error) {
	if id <= 0 {
		return conversation.Conversation{}, &ValidationError{Field: FieldConversation, Reason: "must be a conversation id"}
	}
	c, err := s.store.GetConversation(ctx, id)
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("parley: conversation %d: %w", id, err)
	}
	if err := mayAccess(a, c); err != nil {
		return conversation.Conversation{}, err
	}
	return c, nil
}

// mayAccess is the rule for seeing a conversation: another channel's
// conversation is not found; another party's is ErrPermission; an
// integration acting for itself and an operator see their whole channel.
func mayAccess(a Actor, c conversation.Conversation) error {
	if c.Channel != a.channel {
		return fmt.Errorf("parley: conversation %d: %w", c.ID, ErrNotFound)
	}
	if p, ok := a.Sender(); ok {
		if (p.Kind == message.SenderUser && c.UserID != p.ID) ||
			(p.Kind == message.SenderDataSource && c.DataSourceID != p.ID) {
			return denied(a.String(), "is not a party to conversation", strconv.FormatInt(c.ID, 10))
		}
	}
	return nil
}

// storeError returns the error of the store operation op as the Service
// returns it: the error of one of the Service's own rules (refused), which
// the store returns unchanged from its callback, as it is; any other error
// wrapped with op.
func storeError(op string, err, refused error) error {
	if refused != nil && err == refused {
		return err
	}
	return fmt.Errorf("parley: %s: %w", op, err)
}

// idempotency returns the store's idempotency record for a keyed request.
func (s *Service) idempotency(a Actor, key string, fields ...string) *store.Idempotency {
	if key == "" {
		return nil
	}
	h := sha256.New()
	for _, f := range fields {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return &store.Idempotency{Scope: a.scope(), Key: key, Fingerprint: hex.EncodeToString(h.Sum(nil))}
}
