// Package sqlite is a Parley store on SQLite, through modernc.org/sqlite
// (pure Go, no cgo): the embedded default for programs that run on one
// machine and want a database file and no server.
//
// Application code uses package parley with a Store from this package:
//
//	st, err := sqlite.Open(ctx, "parley.db", sqlite.Options{})
//	if err != nil { ... }
//	defer st.Close()
//
// Open creates the file if needed and applies the schema's migrations
// (embedded SQL files, each in its own transaction, recorded in the table
// parley_migrations). It refuses, without touching them, a file that is not
// a Parley database (ErrNotParley) and one written by a newer version
// (ErrSchemaTooNew). Open(ctx, ":memory:", opts) opens a private in-memory
// database for tests and examples.
//
// # Durability
//
// The database runs in WAL mode. A write method returns once the
// transaction holding its write has committed; what a commit survives
// depends on Options.Synchronous:
//
//   - SynchronousNormal (the default): a committed write survives a crash
//     or kill of the process. A power loss or operating system crash can
//     lose the last writes committed before it (those not yet synced at a
//     checkpoint); the database itself stays consistent and opens
//     normally, as of an earlier commit.
//   - SynchronousFull: the write-ahead log is synced to disk at every
//     commit, so a committed write also survives a power loss, provided the
//     disk honours fsync. Each commit costs one fsync more, shared by the
//     writes committed together (see Concurrency).
//
// # Concurrency
//
// A Store holds one writer connection and a small pool of read-only
// connections (Options.MaxReaders). Readers see the last committed state
// and run in parallel with the writer (WAL).
//
// Writes are committed in groups. A write method queues its write for the
// Store's writer goroutine, which takes every write queued at that moment
// and runs them in one transaction, each in a savepoint of its own, then
// commits and answers each caller: many concurrent writers share the cost
// of one commit, and a write method returns only once the transaction
// holding its write has committed (see Durability). A write that fails, for
// whatever reason (a callback, a taken conversation key, an idempotency key
// reused, a cancelled context, a driver error), is rolled back to its
// savepoint and returns its own error; the other writes of the group are
// not affected. If the COMMIT itself fails, every write of the group
// returns its error and nothing of them is stored. The writer never waits
// to fill a group: a write that finds no other queued runs at once, alone
// in its transaction, as it would without grouping.
//
// Each transaction takes the database's write lock as it begins (BEGIN
// IMMEDIATE), so writes never fail with "database is locked" because of
// each other, and the rules of the store contract that need a lock (one
// conversation per key, dense message sequence numbers, check-then-write)
// hold because the writes run one after the other, each seeing what the
// earlier ones of its group wrote. Several processes may open the same
// file, even a new one that they create and migrate together, and write to
// it; they wait for each other's locks up to Options.BusyTimeout.
//
// The callbacks of the writes (AppendParams.Prepare, StatusParams.Check,
// ReadParams.Check) run inside the write transaction, after the
// idempotency lookup: while one runs, other writes wait. A callback must
// not call the Store (a write would wait for itself, and so would any call
// on an in-memory Store, which has a single connection). A callback runs on
// the Store's writer goroutine: a panic in it rolls back that write alone
// and is raised again in the goroutine that called the write method, but
// a callback must not end its goroutine (runtime.Goexit, which testing's
// FailNow calls), which would stop the writer.
//
// # Cancellation
//
// A write whose context ends before the writer starts it returns the
// context's error and writes nothing. One whose context ends while it
// runs is rolled back to its savepoint and returns the context's error:
// the statement running at that moment completes (interrupting it would
// make SQLite roll back the whole group), and the write stops before its
// next one. A write that has completed when its context ends is part of
// its group's transaction: its method waits for the commit and reports
// what happened, success if the group committed. So an error never hides
// a write that was stored, and a write method's context error always
// means that nothing of the write was stored. Close lets the group being
// written commit and fails the writes still queued with store.ErrClosed.
//
// # Waiting for messages across processes
//
// A parley Service wakes the clients waiting for new messages (Wait,
// WaitFor) when it posts. For the posts of other processes on the same
// file, the Store implements store.MessageFeed: while the program runs
// parley.Service.Listen, one goroutine checks the file once per
// Options.FeedInterval (100 ms by default), whatever the number of
// waiters, with PRAGMA data_version on a connection of its own, and reads
// the new messages from the primary key only when something was committed.
// A waiter thus sees another process's message within FeedInterval of its
// commit. Without Listen, it sees it when its WaitFor ends (WaitFor reads
// once more before answering empty).
//
// # Storage
//
// Times are INTEGER unix microseconds in UTC (store.TimePrecision). Every
// listing is served by an index in its order and paged by keyset, never by
// OFFSET: the inbox of a user or a seller, a product's or an order item's
// conversations, the public listing (questions and reviews), a
// conversation's messages and the polling of new messages. Unread badges
// and the total of a party's inbox read one row of party_totals (the
// party's store.PartyTotals), which triggers on the conversations table
// keep in the savepoint of every write: one seek, whatever the party's
// size. Other listing totals count the matches over the listing's index.
package sqlite
