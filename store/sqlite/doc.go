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
// The database runs in WAL mode. A write method returns once its
// transaction has committed; what a commit survives depends on
// Options.Synchronous:
//
//   - SynchronousNormal (the default): a committed write survives a crash
//     or kill of the process. A power loss or operating system crash can
//     lose the last writes committed before it (those not yet synced at a
//     checkpoint); the database itself stays consistent and opens
//     normally, as of an earlier commit.
//   - SynchronousFull: the write-ahead log is synced to disk at every
//     commit, so a committed write also survives a power loss, provided the
//     disk honours fsync. Each write costs one fsync more.
//
// # Concurrency
//
// A Store holds one writer connection and a small pool of read-only
// connections (Options.MaxReaders). Writes queue for the writer inside the
// process, and each write transaction takes the database's write lock as
// it begins (BEGIN IMMEDIATE), so writes never fail with "database is
// locked" because of each other, and the rules of the store contract that
// need a lock (one conversation per key, dense message sequence numbers,
// check-then-write) hold because writes are serialized. Readers see the
// last committed state and run in parallel with the writer (WAL). Several
// processes may open the same file, even a new one that they create and
// migrate together, and write to it; they wait for each other's locks up
// to Options.BusyTimeout.
//
// The callbacks of the writes (AppendParams.Prepare, StatusParams.Check,
// ReadParams.Check) run inside the write transaction, after the
// idempotency lookup: while one runs, other writes wait. A callback must
// not call the Store (an in-memory Store, which has a single connection,
// would wait for itself).
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
// conversation's messages and the polling of new messages.
package sqlite
