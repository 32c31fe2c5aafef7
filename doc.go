// Package parley is an embeddable library for the conversations between a
// marketplace's buyers (users) and its sellers (data sources): private
// messages, questions and reviews, about a product, an order item, or
// nothing in particular; public listings of questions and reviews; read
// state and unread counts; and notifications.
//
// A program builds a Service over a store and calls it with the acting
// party, which the program has authenticated:
//
//	st, err := sqlite.Open(ctx, "parley.db", sqlite.Options{})
//	// handle err; defer st.Close()
//	svc, err := parley.New(st, parley.Options{World: myWorld})
//	res, err := svc.Start(ctx, parley.User("1", "545382"), parley.StartRequest{
//		Type: conversation.TypeQuestion, DataSourceID: "1",
//		Item: conversation.Product("1"), Content: "Is it in stock?",
//	})
//
// # Rules
//
// Every rule of the systems Parley replaces is enforced by the Service, in
// one place:
//
//   - Every conversation belongs to a channel (a storefront) and nothing
//     crosses channels: another channel's conversation is not found.
//   - The acting party is a user (registered or guest), a seller acting
//     for one data source, or a trusted integration of a channel acting on
//     behalf of a party it names (Actor.OnBehalfOf). The sender of every
//     message is derived from it; users and sellers cannot pose as anyone.
//   - Users start messages, questions and reviews with a data source;
//     sellers start only messages with a user. There is one conversation
//     per user, data source, type and item (ErrConversationExists).
//   - A seller never writes into a review (ErrReviewReply), nor closes or
//     reopens one (ErrReviewStatus): only the reviewer does. A closed
//     conversation takes no messages (ErrConversationClosed).
//   - Users see their own conversations, sellers their data source's;
//     anything else is ErrPermission.
//   - Bad input is a *ValidationError naming the field, wrapping
//     ErrInvalid, and changes nothing.
//   - With a World (Options.World), a start naming a user, data source,
//     product or order item that the program does not know is refused:
//     a *ValidationError naming the field that wraps an *UnknownError
//     (ErrUnknown). Nothing is written and nobody is notified.
//   - A write retried with its idempotency key gets the first result,
//     whatever changed since (the conversation was closed, the program's
//     World no longer knows its product): the key is looked up before any rule that
//     could have changed.
//   - The rules that depend on a conversation's state are decided inside
//     the store's write, on the conversation as the write finds it: a
//     message is never written into a conversation that was closed
//     concurrently, and Post, SetStatus and MarkRead read nothing before
//     they write.
//   - Activity never goes backwards: within a conversation message times
//     do not decrease with their sequence, and a conversation's
//     LastMessageAt and ModifiedAt never move back.
//   - Nothing is ever deleted, except the change log's old entries when
//     the program trims them (TrimEvents); a person's data is erased, not
//     deleted (see Personal data).
//
// # Listing, polling and waiting
//
// List and PublicList page with opaque keyset cursors that stay fast at
// any depth; PageRequest.Offset asks for a page by number instead, equal
// to following the cursors, with one indexed read. Messages pages newest
// first; Poll returns the messages with
// an id greater than a given one (any id: the last one a client has),
// oldest first, and never misses one because the store orders messages
// inside the write; Wait does the same but waits for the next message
// without querying the store while nothing happens. Listen extends the
// wake-up to the posts of other processes sharing the store (PostgreSQL,
// SQLite).
//
// # Streams
//
// Stream follows everything that happens in the conversations an actor
// may see (conversations started, messages posted, read receipts, status
// changes) as Events with increasing positions; a client that resumes
// after the last position it got (an SSE Last-Event-ID) misses nothing
// and gets nothing twice, and one that resumes from a position the log
// no longer holds gets EventReload. The changes come from the store's
// change log (store.ChangeLog), written in each write's transaction. One
// goroutine per Service reads the log when something was written (by this
// Service, or by another process while Listen runs) and wakes only the
// streams concerned: an idle stream costs no query.
//
// # Notifications
//
// Every start and post notifies the other side. With Options.Outbox the
// event is written in the write's own transaction and a notify.Worker
// delivers it at least once; otherwise the Notifier is called after the
// commit, best effort. See package notify.
//
// # Personal data
//
// A channel's operators answer data-subject requests (GDPR, KVKK) for a
// user or a data source: Export returns everything the channel stores
// about it (its conversations with their messages and read state, hidden
// ones included, the reports it filed and those of its messages, and the
// audit entries about it) as a PersonalData document with a documented
// JSON form; Erase replaces its personal data with tombstones (its
// messages' content, the subjects it wrote, the names and order number
// stored about a user, its reports' notes) in one transaction, keeps the
// conversations' structure, counts and the other parties' messages, is
// idempotent, and is recorded in the audit trail. Stores implement it
// with store.Privacy.
//
// # Stores
//
// Package store defines what a store is and store/storetest checks it.
// Backends: store/memory (tests and examples), store/sqlite (the embedded
// default) and store/postgres.
//
// # Replicas and read-your-writes
//
// store/postgres may read listings, message pages and unread totals from
// streaming replicas (postgres.Options.Replicas). A caller that must see
// its own writes runs its calls with a store.Session in the context
// (store.WithSession): the Service passes the context to the store, whose
// writes advance the Session and whose reads wait for a replica to have
// replayed it, or read the primary. The HTTP kit does this for every
// request, carrying the Session's position to the client and back in the
// Parley-Consistency header (httpapi.ConsistencyHeader). docs/scaling.md
// measures what a primary and its replicas hold.
package parley
