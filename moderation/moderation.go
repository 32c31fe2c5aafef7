// Package moderation defines the values of trust and safety: the reports
// that users and sellers file against messages, their reasons and
// outcomes, and the audit trail of what a marketplace's operators did.
//
// The package holds plain values and the rules that depend only on a
// value (is this a known reason). Who may report, resolve or read the
// trail is decided by the root package parley.
package moderation

import (
	"time"

	"github.com/parleyhq/parley/message"
)

// Reason is why a message is reported: a small fixed set.
type Reason string

// The report reasons.
const (
	ReasonSpam           Reason = "spam"            // advertising, repeated or unrelated content
	ReasonAbuse          Reason = "abuse"           // insults, harassment, hate
	ReasonContactDetails Reason = "contact_details" // phone numbers, emails, links: a deal off the platform
	ReasonPersonalData   Reason = "personal_data"   // someone's private data made public
	ReasonIllegal        Reason = "illegal"         // illegal goods or content
	ReasonOther          Reason = "other"           // anything else; the note says what
)

// Reasons lists every valid Reason.
var Reasons = []Reason{ReasonSpam, ReasonAbuse, ReasonContactDetails, ReasonPersonalData, ReasonIllegal, ReasonOther}

// Valid reports whether r is one of the known reasons.
func (r Reason) Valid() bool {
	for _, x := range Reasons {
		if r == x {
			return true
		}
	}
	return false
}

// State is where a report is in the moderation queue.
type State string

// The report states.
const (
	StateOpen     State = "open"     // waiting for an operator
	StateResolved State = "resolved" // an operator decided (Outcome)
)

// Valid reports whether s is a known state.
func (s State) Valid() bool { return s == StateOpen || s == StateResolved }

// Outcome is what an operator decided about a report.
type Outcome string

// The report outcomes.
const (
	// OutcomeDismissed: nothing wrong was found; the content stays.
	OutcomeDismissed Outcome = "dismissed"
	// OutcomeActioned: the operator acted on the content (hid it, closed
	// the conversation, warned the party).
	OutcomeActioned Outcome = "actioned"
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return o == OutcomeDismissed || o == OutcomeActioned }

// Report is a report of one message to its channel's operators. Stores
// assign ID; the Service assigns everything else.
type Report struct {
	ID             int64 // assigned by the store, increasing
	Channel        string
	ConversationID int64
	MessageID      int64
	// Reporter is who reported: a user or a data source. One reporter
	// reports a message at most once.
	Reporter  message.Sender
	Reason    Reason
	Note      string // the reporter's free text, may be empty
	State     State
	CreatedAt time.Time

	// Set when State is StateResolved.
	ResolvedAt     time.Time
	ResolvedBy     string // the operator's staff id
	Outcome        Outcome
	ResolutionNote string
}

// ScreenerReporter is the reporter of the reports that the Service files
// for messages its Screener flags.
var ScreenerReporter = message.Sender{Kind: "screener", ID: "screener"}

// Action is what an audit entry records.
type Action string

// The audited actions.
const (
	ActionReportResolved     Action = "report.resolved"
	ActionMessageHidden      Action = "message.hidden"
	ActionMessageUnhidden    Action = "message.unhidden"
	ActionConversationHidden Action = "conversation.hidden"
	ActionConversationShown  Action = "conversation.unhidden"
	ActionPersonErased       Action = "person.erased"
)

// Entry is one line of the audit trail: who (an operator's staff id) did
// what to which conversation, message, report or person, when and why.
// Stores assign ID; entries are never changed or removed.
type Entry struct {
	ID             int64 // assigned by the store, increasing
	Channel        string
	Staff          string
	Action         Action
	ConversationID int64          // 0: none
	MessageID      int64          // 0: none
	ReportID       int64          // 0: none
	Subject        message.Sender // the person an erase is about; zero otherwise
	Reason         string         // why, in the operator's words
	At             time.Time
}
