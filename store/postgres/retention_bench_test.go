package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkRetention measures the two ways of removing a day of delivered
// outbox events from a table that holds ten days of them, the day being a
// tenth of the rows: "delete" is the store's PruneEvents, in batches of
// 1000 through the index events_done, on the events table as it is;
// "drop" drops the day's partition of a twin table partitioned by
// done_at, one partition a day. One op removes one day; the rows of the
// next day are inserted, untimed, before each op. It reports the WAL
// written per op and per row removed, on a cluster of its own when it can
// make one (as root, like TestReplica), else on PARLEY_POSTGRES_DSN's
// server, where other writers' WAL is counted too. 1M rows; 50k with
// -short.
//
//	PARLEY_POSTGRES_DSN=... go test ./store/postgres -run '^$' -bench Retention -benchtime=5x -count=3
func BenchmarkRetention(b *testing.B) {
	total := 1_000_000
	if testing.Short() {
		total = 50_000
	}
	perDay := total / 10
	ctx := context.Background()
	if bin, _ := findPgBin(); bin != "" {
		// A cluster of its own, so that the WAL it measures is its own;
		// else the shared server's, where others' writes add to it.
		b.Setenv("PARLEY_POSTGRES_DSN", newPrimary(b, bin, pgRoot(b), true).dsn())
	}
	e := newEnv(b, 0)
	events := e.table("events")
	part := e.table("events_by_day")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return base.Add(time.Duration(n) * 24 * time.Hour) }
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := e.admin.Exec(ctx, sql, args...); err != nil {
			b.Fatal(sql, ": ", err)
		}
	}
	// fill inserts day n's done events into table.
	fill := func(table string, n int) {
		exec(`INSERT INTO `+table+` (id, kind, channel, conversation_id, message_id, conversation_type,
	recipient_kind, recipient_id, sender_kind, sender_id, created_at, due_at, digest_key, state, attempts,
	last_error, done_at)
SELECT $1::text || '-' || g, 'message_posted', 'web', g, g, 'message', 'user', 'u' || g % 1000, 'datasource',
	'd' || g % 100, $2::timestamptz, $2::timestamptz, 'k' || g % 5000, 'done', 1, '',
	$2::timestamptz + (g - 1) * interval '1 millisecond' * 86400000 / $3
FROM generate_series(1, $3) g`, fmt.Sprint("day", n), day(n), perDay)
	}
	exec(`CREATE TABLE ` + part + ` (LIKE ` + events + ` INCLUDING DEFAULTS) PARTITION BY RANGE (done_at)`)
	exec(`CREATE INDEX ON ` + part + ` (done_at, id) WHERE state = 'done'`)
	addPartition := func(n int) string {
		name := e.table(fmt.Sprint("events_day", n))
		exec(`CREATE TABLE ` + name + ` PARTITION OF ` + part + ` FOR VALUES FROM ('` +
			day(n).Format(time.RFC3339) + `') TO ('` + day(n+1).Format(time.RFC3339) + `')`)
		return name
	}
	for n := range 10 {
		fill(events, n)
		addPartition(n)
		fill(part, n)
	}
	exec("VACUUM ANALYZE " + events)
	exec("VACUUM ANALYZE " + part)
	walNow := func() int64 {
		var lsn int64
		if err := e.admin.QueryRow(ctx, positionSQL).Scan(&lsn); err != nil {
			b.Fatal(err)
		}
		return lsn
	}

	// The oldest day left in each table: a repeated sub-benchmark goes on
	// from where the previous run stopped.
	deleted, dropped := 0, 0
	b.Run("delete", func(b *testing.B) {
		var wal int64
		oldest := &deleted
		for b.Loop() {
			b.StopTimer()
			fill(events, *oldest+10)
			before := walNow()
			b.StartTimer()
			removed := 0
			for {
				n, err := e.PruneEvents(ctx, day(*oldest+1), 1000)
				if err != nil {
					b.Fatal(err)
				}
				removed += n
				if n < 1000 {
					break
				}
			}
			b.StopTimer()
			wal += walNow() - before
			if removed != perDay {
				b.Fatalf("removed %d events, want %d", removed, perDay)
			}
			*oldest++
			b.StartTimer()
		}
		b.ReportMetric(float64(wal)/float64(b.N), "WAL-B/op")
		b.ReportMetric(float64(wal)/float64(b.N*perDay), "WAL-B/row")
	})

	b.Run("drop", func(b *testing.B) {
		var wal int64
		oldest := &dropped
		for b.Loop() {
			b.StopTimer()
			addPartition(*oldest + 10)
			fill(part, *oldest+10)
			name := e.table(fmt.Sprint("events_day", *oldest))
			before := walNow()
			b.StartTimer()
			if _, err := e.Pool().Exec(ctx, "DROP TABLE "+name); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			wal += walNow() - before
			*oldest++
			b.StartTimer()
		}
		b.ReportMetric(float64(wal)/float64(b.N), "WAL-B/op")
		b.ReportMetric(float64(wal)/float64(b.N*perDay), "WAL-B/row")
	})
}
