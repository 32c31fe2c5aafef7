package store

import (
	"cmp"
	"slices"

	"github.com/parleyhq/parley/message"
)

// Conversations returns the ids of q.ConversationIDs that a store must
// read for MessageSets: each positive id once, in their first order (an
// id below 1 is no conversation).
func (q MessageSetQuery) Conversations() []int64 {
	out := make([]int64, 0, len(q.ConversationIDs))
	seen := make(map[int64]struct{}, len(q.ConversationIDs))
	for _, id := range q.ConversationIDs {
		if _, ok := seen[id]; ok || id < 1 {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

// Sets arranges the messages a store read for q (the newest q.Limit
// messages of each of q.Conversations, in any order) into what
// MessageSets returns: one set per id of q.ConversationIDs, newest first,
// an id given twice with its own copy of the set.
func (q MessageSetQuery) Sets(msgs []message.Message) [][]message.Message {
	byConv := make(map[int64][]message.Message, len(q.ConversationIDs))
	for _, m := range msgs {
		byConv[m.ConversationID] = append(byConv[m.ConversationID], m)
	}
	out := make([][]message.Message, len(q.ConversationIDs))
	first := make(map[int64]int, len(q.ConversationIDs))
	for i, id := range q.ConversationIDs {
		if j, ok := first[id]; ok {
			out[i] = slices.Clone(out[j])
			continue
		}
		first[id] = i
		set := byConv[id]
		slices.SortFunc(set, func(a, b message.Message) int { return cmp.Compare(b.Seq, a.Seq) })
		out[i] = set
	}
	return out
}
