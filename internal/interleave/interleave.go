// Package interleave runs the contenders of a benchmark interleaved: in
// every iteration each contender runs once on each case, in a new random
// order, so that other work on the machine and the caches left by the
// previous run weigh on all of them alike. It reports medians, which the
// rare long descheduling of a read of a few microseconds on a shared
// machine does not move, and the ratios of each contender's cases.
package interleave

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// Contender is one way of doing what the benchmark measures.
type Contender struct {
	// Name names the contender in the reported metrics.
	Name string
	// Run runs it once on case i (an index of the cases passed to Run).
	Run func(b *testing.B, i int)
}

// Run runs every contender on every case in each iteration of b.Loop, in
// a new random order each time, and reports, for each contender, its
// median time on each case ("<name>-<case>-p50-ns") and the ratio of its
// median on each later case to its median on the first
// ("<name>-<case>/<first case>").
func Run(b *testing.B, cases []string, contenders []Contender) {
	b.Helper()
	spent := make([][][]time.Duration, len(contenders))
	var runs [][2]int
	for i := range contenders {
		spent[i] = make([][]time.Duration, len(cases))
		for j := range cases {
			runs = append(runs, [2]int{i, j})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		r.Shuffle(len(runs), func(i, j int) { runs[i], runs[j] = runs[j], runs[i] })
		for _, run := range runs {
			t0 := time.Now()
			contenders[run[0]].Run(b, run[1])
			spent[run[0]][run[1]] = append(spent[run[0]][run[1]], time.Since(t0))
		}
	}
	for i, c := range contenders {
		for j, name := range cases {
			b.ReportMetric(float64(Median(spent[i][j]).Nanoseconds()), fmt.Sprintf("%s-%s-p50-ns", c.Name, name))
		}
		for j := 1; j < len(cases); j++ {
			b.ReportMetric(float64(Median(spent[i][j]))/float64(Median(spent[i][0])), fmt.Sprintf("%s-%s/%s", c.Name, cases[j], cases[0]))
		}
	}
}

// Median returns the median of ds, which it sorts; 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// PartySizes are the sizes, in conversations, of the parties that the
// flat-read benchmarks of the stores compare: 100 and 100,000, and
// 1,000,000 too unless the tests run with -short.
func PartySizes() []int {
	if testing.Short() {
		return []int{100, 100_000}
	}
	return []int{100, 100_000, 1_000_000}
}

// Names returns the sizes as case names for Run.
func Names(sizes []int) []string {
	names := make([]string, len(sizes))
	for i, n := range sizes {
		names[i] = fmt.Sprint(n)
	}
	return names
}

// Unread returns the contender "store" that asks st for the unread totals
// of the seller seller(i) of channel, which must have something unread.
func Unread(st store.Store, channel string, seller func(i int) string) Contender {
	return Contender{Name: "store", Run: func(b *testing.B, i int) {
		u, err := st.Unread(context.Background(), store.UnreadQuery{Channel: channel, Side: conversation.SideSeller, PartyID: seller(i)})
		if err != nil || u.Conversations == 0 {
			b.Fatal(err, u)
		}
	}}
}

// InboxQuery is the first page of 20 of a seller's inbox, with its total.
func InboxQuery(channel, seller string) store.ConversationQuery {
	return store.ConversationQuery{Channel: channel, Filter: conversation.Filter{DataSourceID: seller}, Limit: 20, WithTotal: true}
}

// Inbox returns the contender "store" that asks st for InboxQuery of the
// seller seller(i) of channel, which must have more than 20 conversations.
func Inbox(st store.Store, channel string, seller func(i int) string) Contender {
	return Contender{Name: "store", Run: func(b *testing.B, i int) {
		p, err := st.ListConversations(context.Background(), InboxQuery(channel, seller(i)))
		if err != nil || len(p.Items) != 20 || p.Total <= 20 {
			b.Fatal(err, len(p.Items), p.Total)
		}
	}}
}
