package parley

import (
	"fmt"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// ActorKind is what kind of party acts.
type ActorKind uint8

// The actor kinds.
const (
	// ActorUser is a buyer, registered or guest.
	ActorUser ActorKind = iota + 1
	// ActorSeller is a seller acting for one data source.
	ActorSeller
	// ActorIntegration is a trusted integration of one channel (seed 000's
	// remote API): it reads the whole channel and writes on behalf of the
	// user or data source it names.
	ActorIntegration
	// ActorOperator is a member of a marketplace's staff for one channel:
	// it reads every conversation of the channel, closes and reopens any
	// of them and moderates (reports, hiding, the audit trail, personal
	// data), and never writes messages as a party.
	ActorOperator
)

func (k ActorKind) String() string {
	switch k {
	case ActorUser:
		return "user"
	case ActorSeller:
		return "seller"
	case ActorIntegration:
		return "integration"
	case ActorOperator:
		return "operator"
	}
	return fmt.Sprintf("ActorKind(%d)", uint8(k))
}

// Actor is the party on whose behalf a Service method runs. The embedding
// program authenticates the caller and builds the Actor with User, Guest,
// Seller or Integration; the Service trusts it and derives from it the
// sender of every message. The zero Actor is invalid.
type Actor struct {
	kind    ActorKind
	channel string
	// who the actor is (user, seller) or names (integration); zero for an
	// integration that acts for itself, and for an operator.
	principal message.Sender
	// staff is an operator's staff id (the "who" of the audit trail).
	staff string
}

// User returns the actor for a registered user of channel.
func User(channel, userID string) Actor {
	return Actor{kind: ActorUser, channel: channel, principal: message.User(userID, message.UserRegistered)}
}

// Guest returns the actor for a guest (unregistered) user of channel.
func Guest(channel, userID string) Actor {
	return Actor{kind: ActorUser, channel: channel, principal: message.User(userID, message.UserGuest)}
}

// Seller returns the actor for a seller acting for data source dataSourceID
// in channel.
func Seller(channel, dataSourceID string) Actor {
	return Actor{kind: ActorSeller, channel: channel, principal: message.DataSource(dataSourceID)}
}

// Integration returns the actor for a trusted integration of channel. On
// its own it may read every conversation of the channel; to write it must
// name the party it acts for with OnBehalfOf.
func Integration(channel string) Actor {
	return Actor{kind: ActorIntegration, channel: channel}
}

// Operator returns the actor for the member staffID of a marketplace's
// staff, acting in channel. An operator reads every conversation of its
// channel (never another channel's), closes and reopens any of them, and
// moderates; it cannot write messages (Start, Post), mark them read or
// act on behalf of a party (ErrPermission).
func Operator(channel, staffID string) Actor {
	return Actor{kind: ActorOperator, channel: channel, staff: staffID}
}

// OnBehalfOf returns the actor that writes as sender s (seed 000's
// content_type and content_id). An integration may name any user or data
// source of its channel. A user or a seller may only name themselves (the
// actor is returned unchanged); naming anyone else is ErrPermission.
func (a Actor) OnBehalfOf(s message.Sender) (Actor, error) {
	if !s.Kind.Valid() || s.ID == "" {
		return Actor{}, &ValidationError{Field: FieldSender, Reason: "a sender needs a known kind (user or datasource) and an id"}
	}
	s = normalSender(s)
	switch a.kind {
	case ActorIntegration:
		a.principal = s
		return a, nil
	case ActorUser, ActorSeller:
		if s.Kind == a.principal.Kind && s.ID == a.principal.ID {
			return a, nil
		}
		return Actor{}, denied(a.kind.String(), a.principal.ID, "cannot act as", string(s.Kind), s.ID)
	case ActorOperator:
		return Actor{}, denied("an operator never acts as a party")
	}
	return Actor{}, denied("invalid actor")
}

// normalSender returns s as a message carries it: a user without a type
// is registered; a data source has no user type. Every sender the program
// names passes through it (OnBehalfOf); the constructors build normal
// senders.
func normalSender(s message.Sender) message.Sender {
	switch s.Kind {
	case message.SenderUser:
		if s.UserType == "" {
			s.UserType = message.UserRegistered
		}
	case message.SenderDataSource:
		s.UserType = ""
	}
	return s
}

// Kind returns the actor's kind.
func (a Actor) Kind() ActorKind { return a.kind }

// Channel returns the channel the actor belongs to.
func (a Actor) Channel() string { return a.channel }

// Staff returns an operator's staff id, and "" for every other actor.
func (a Actor) Staff() string { return a.staff }

// Sender returns the party the actor writes as, and false for an
// integration that has not named one and for an operator.
func (a Actor) Sender() (message.Sender, bool) {
	return a.principal, a.principal.Kind != ""
}

// side returns the conversation side the actor writes as, if any.
func (a Actor) side() (conversation.Side, bool) {
	s, ok := a.Sender()
	return conversation.Side(s.Kind), ok
}

// scope identifies the actor for idempotency keys.
func (a Actor) scope() string {
	return a.channel + "|" + a.kind.String() + "|" + string(a.principal.Kind) + "|" + a.principal.ID + "|" + a.staff
}

func (a Actor) String() string {
	if a.kind == ActorOperator {
		return fmt.Sprintf("operator %s of channel %s", a.staff, a.channel)
	}
	if s, ok := a.Sender(); ok {
		return fmt.Sprintf("%s %s:%s in channel %s", a.kind, s.Kind, s.ID, a.channel)
	}
	return fmt.Sprintf("%s of channel %s", a.kind, a.channel)
}
