// Package storetest is the definition of a parley store: the conformance
// suite that every implementation of store.Store must pass. The contract
// written in package store says what a store does; this suite says it
// precisely, with the same tests for every backend.
//
// # Using it
//
// A backend's conformance test is one line:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
//	}
//
// Run calls newStore once per subtest. It must return a new, empty store
// and register with t.Cleanup whatever releases it (closing the store,
// dropping a database schema). Some subtests close the store themselves,
// so Close must accept being called twice.
//
// A backend's benchmark of page numbers runs PageByNumber on its own data
// set, beside its hand-written twins.
//
// # What it checks
//
// Every rule of the store contract: conversation keys and the
// *store.ConversationExistsError, unique codes and the lookup by code,
// idempotent writes and their replays (which come before the callbacks),
// Replay, callbacks (Prepare, Check) that write nothing when they fail and
// stay atomic with the write when a status changes concurrently, dense
// message sequence numbers with ids in the same order, message times that
// never decrease, reading the messages after any id or read position, the newest
// messages of many conversations at once, read
// state and unread counts, every conversation filter and its time bounds,
// keyset paging and, for a store that implements the optional
// store.Seeker, positions deep in a listing; the message listings, the unread summary, the party
// totals (Unread and a party's inbox total equal a recount of the
// conversations after random sequences of writes, sequential and from
// many goroutines at once), the
// notification outbox (claims, leases, digests, failures, dead events),
// times in UTC at microsecond precision, the round trip of every field,
// cancelled contexts, Close, the rules that must hold under concurrency
// (run it with -race), for a store that implements the optional
// store.MessageFeed, its reports, and, for a store that implements the
// optional store.Moderation, reports of messages (one per reporter and
// message, under concurrency too), the moderation queue and its filters,
// resolutions, hidden messages and conversations (kept, left out of
// Visible listings, counted) and the audit trail, and, for a store that
// implements the optional store.Privacy, the erasure of a user's or a data
// source's personal data (what is replaced, what is kept, idempotence, an
// unknown party). RunErasureScan checks, with a scan of the raw rows that
// the backend provides, that nothing of an erased user is left anywhere.
//
// The suite builds its values the way the parley Service does: codes are
// UUIDv7, times are UTC truncated to store.TimePrecision, and events carry
// UUIDv7 string ids. Its expectations follow the helpers of package store
// (ApplyFirst, ApplyMessage, ApplyStatus, ApplyRead, Matches), which define
// the arithmetic every store applies. It never sleeps: outbox time is
// passed explicitly, and the tests of a message feed wait for its reports,
// with a deadline only against a hang.
package storetest

import (
	"testing"

	"github.com/parleyhq/parley/store"
)

// Run runs the conformance suite against the stores returned by newStore,
// one fresh store per subtest.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	n := factory(newStore)
	t.Run("CreateConversation", n.testCreateConversation)
	t.Run("AppendMessage", n.testAppendMessage)
	t.Run("SetStatus", n.testSetStatus)
	t.Run("MarkRead", n.testMarkRead)
	t.Run("Replay", n.testReplay)
	t.Run("GetConversation", n.testGetConversation)
	t.Run("GetConversationByCode", n.testGetConversationByCode)
	t.Run("ListConversations", n.testListConversations)
	t.Run("SeekConversations", n.testSeekConversations)
	t.Run("ListMessages", n.testListMessages)
	t.Run("MessagesAfter", n.testMessagesAfter)
	t.Run("MessageSets", n.testMessageSets)
	t.Run("Unread", n.testUnread)
	t.Run("PartyTotals", n.testPartyTotals)
	t.Run("ClaimEvents", n.testClaimEvents)
	t.Run("CompleteEvents", n.testCompleteEvents)
	t.Run("FailEvent", n.testFailEvent)
	t.Run("ListDeadEvents", n.testListDeadEvents)
	t.Run("RetryDeadEvent", n.testRetryDeadEvent)
	t.Run("PruneEvents", n.testPruneEvents)
	t.Run("DeleteDeadEvent", n.testDeleteDeadEvent)
	t.Run("RoundTrip", n.testRoundTrip)
	t.Run("Context", n.testContext)
	t.Run("Close", n.testClose)
	t.Run("Concurrency", n.testConcurrency)
	t.Run("MessageFeed", n.testMessageFeed)
	t.Run("ChangeLog", n.testChangeLog)
	t.Run("Reports", n.testReports)
	t.Run("Audit", n.testAudit)
	t.Run("Hiding", n.testHiding)
	t.Run("Privacy", n.testPrivacy)
}

// factory makes the harness of each subtest.
type factory func(t *testing.T) store.Store
