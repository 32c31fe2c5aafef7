// Package postgres is a store.Store on PostgreSQL, through
// github.com/jackc/pgx/v5 and its pgxpool: the backend for a marketplace
// that already runs PostgreSQL, or has outgrown one machine and runs
// several processes of its program on one database.
//
// Application code uses the parley Service; this package only opens the
// store it runs on:
//
//	st, err := postgres.Open(ctx, "postgres://parley@db/shop?pool_max_conns=20", postgres.Options{})
//	if err != nil { ... }
//	defer st.Close()
//
// # Promises
//
// Every write is one PostgreSQL transaction, committed before the method
// returns: an acknowledged write is durable as far as the server's
// settings make commits durable, and a write that fails, is cancelled
// with its context or loses its connection leaves nothing behind. The
// events of a write (the outbox) are stored in the same transaction.
//
// Several processes may use one database and schema at once:
//
//   - a message's Seq is assigned while the conversation's row is locked,
//     in the transaction that inserts the message, and so is its id (drawn
//     from the uncached sequence message_ids): within a conversation, Seq
//     order is id order and commit order, so polling with MessagesAfter
//     after any id never misses a message, even though ids commit out of
//     order across conversations;
//   - the conversation key is a unique constraint: of concurrent starts of
//     one conversation exactly one succeeds, the others get a
//     *store.ConversationExistsError with its id;
//   - outbox workers claim events with FOR UPDATE SKIP LOCKED, so workers
//     in different processes never get the same event while leases hold;
//   - serialization failures (SQLSTATE 40001) and deadlocks (40P01) are
//     retried up to Options.MaxRetries times; driver errors are recognized
//     by SQLSTATE, never by their text.
//
// Round trips: CreateConversation is one statement (one round trip; a
// taken key costs a second to find the existing id). AppendMessage is one
// statement without a Prepare. With one, it is one round trip too when it
// has no idempotency key and the Store remembers the conversation (up to
// 8192 of those it appended to): Prepare runs on the
// remembered conversation, and one statement writes, applying only if
// the conversation still has the status and code Prepare saw. Otherwise
// it is two: the idempotency record (with its message) and the
// conversation are read together, without a lock; Prepare runs in Go;
// then the same statement writes (if the status changed in between, the
// append runs again on a fresh read, up to Options.MaxRetries times).
// The row lock is held by that statement only, never across a round trip
// to the client. SetStatus with a Check works the same way, with a read
// first. MarkRead locks the row in its first round trip (with the
// read position and the unread count after it), runs its Check in Go and
// writes with COMMIT in the second. Replay is one round trip; listings
// send their count in the same round trip.
//
// # The message feed
//
// WatchMessages (store.MessageFeed) hears the appends of every process on
// the schema through LISTEN/NOTIFY. No append notifies inside its own
// transaction: PostgreSQL serializes the commits of all the transactions
// that notify, cluster-wide, through their WAL flush, so that concurrent
// appends would commit one at a time. Each Store has one announcer
// instead, a goroutine with a connection of its own (application_name
// "parley-feed-announcer"), which sends the conversations committed since
// its last announcement, after the commits, in one transaction: under
// load, one announcement covers many appends. It notifies only while a
// feed listens on the schema's channel in the database, so that a
// process without listeners takes no notification lock at all.
// Listeners also sweep the message index every 10 seconds, so that an
// announcement lost with its process (a crash right after a commit)
// delays a wake-up by at most 20 seconds. See WatchMessages.
//
// # Cancellation
//
// A write whose context is cancelled, or whose connection is lost, before
// it commits returns an error and leaves nothing behind. pgx alone does
// not promise that: on a cancelled context it closes the connection, but
// a server that already received the statement (and the COMMIT pipelined
// after it) goes on and commits once the lock it waits for is free. The
// store therefore runs its committing round trips without the context's
// cancellation and, when the context is done, sends the server a cancel
// request, which aborts the statement if it is still running; the
// connection is then discarded. The method returns the context's error
// only if the write did not commit; a write that committed before the
// cancel took effect is reported as done. As with any database, an error
// in the commit's own round trip (the connection dies while COMMIT is in
// flight) cannot tell whether the commit happened: idempotency keys make
// the retry safe.
//
// # Schema
//
// Listings are keyset pages in (LastMessageAt, ID) descending order, each
// read in order from an index on (channel, ..., last_message_at DESC, id
// DESC): the channel's listing, a user's inbox, a seller's inbox, an item's
// conversations (product pages), and the public listings (a generated
// column public is true for questions and reviews). Unread badges and
// the total of a party's inbox read the party's totals (store.PartyTotals)
// in party_totals, kept by a trigger on conversations in the transaction
// of every write, in 32 parts per party (part = conversation id % 32) so
// that concurrent writers of one seller's conversations seldom wait on
// one row: at most 32 rows whatever the party's size. (A program that
// loads many conversations of one party with its own SQL should commit
// every few thousand rows: within one transaction, each part's row keeps
// every version it went through.) The tests check
// these plans with EXPLAIN on a seeded database.
//
// The tables live in one PostgreSQL schema, Options.Schema ("parley" by
// default), so that Parley can share a database with the program's own
// tables, and several Parley stores can share a database. Open and New
// create the schema if needed and apply the migrations embedded in this
// package, recorded in the schema's schema_migrations table. Migrations
// run in one transaction under a PostgreSQL advisory lock, so processes
// that start together migrate exactly once. A schema migrated by a newer
// version of this package makes Open fail with ErrSchemaTooNew.
//
// # Using an existing pool
//
// A program that already has a *pgxpool.Pool passes it to New. The store
// then does not own the pool: Close marks the store closed but leaves the
// pool open for the program, which closes it itself, after the store. The
// store names its schema in every statement, so the pool's search_path
// does not matter.
//
// # Tests
//
// The package's tests need a server: they read a DSN from the environment
// variable PARLEY_POSTGRES_DSN (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable) and are skipped
// when it is not set. Each test creates its own schema and drops it.
package postgres
