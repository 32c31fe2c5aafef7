package memory

import (
	"slices"
	"sort"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// listKey is a conversation's place in the listings: (LastMessageAt, ID).
type listKey struct {
	at time.Time
	id int64
}

func keyOfConv(c *conversation.Conversation) listKey { return listKey{c.LastMessageAt, c.ID} }

// before reports whether a is listed before b: newer activity first, then
// the higher id.
func (a listKey) before(b listKey) bool {
	if !a.at.Equal(b.at) {
		return a.at.After(b.at)
	}
	return a.id > b.id
}

// blockSize is the size at which an ordered index splits a block in two.
const blockSize = 512

// ordered is a set of listKeys in listing order: a list of sorted blocks
// of at most blockSize keys, so that inserting or removing a key moves at
// most one block's keys and, when a block splits, the block headers, and
// a page starts with two binary searches.
type ordered struct {
	blocks [][]listKey
	n      int
}

// block returns the index of the first block whose last key does not come
// before k (where k belongs), or the last block.
func (o *ordered) block(k listKey) int {
	b := sort.Search(len(o.blocks), func(i int) bool {
		bl := o.blocks[i]
		return !bl[len(bl)-1].before(k)
	})
	return min(b, len(o.blocks)-1)
}

func (o *ordered) insert(k listKey) {
	o.n++
	if len(o.blocks) == 0 {
		o.blocks = [][]listKey{append(make([]listKey, 0, blockSize), k)}
		return
	}
	b := o.block(k)
	bl := o.blocks[b]
	i := sort.Search(len(bl), func(i int) bool { return !bl[i].before(k) })
	bl = slices.Insert(bl, i, k)
	if len(bl) <= blockSize {
		o.blocks[b] = bl
		return
	}
	half := len(bl) / 2
	second := make([]listKey, len(bl)-half, blockSize)
	copy(second, bl[half:])
	o.blocks[b] = bl[:half:half]
	o.blocks[b] = slices.Grow(o.blocks[b], blockSize-half)
	o.blocks = slices.Insert(o.blocks, b+1, second)
}

// remove removes k, which must be in the set.
func (o *ordered) remove(k listKey) {
	b := o.block(k)
	bl := o.blocks[b]
	i := sort.Search(len(bl), func(i int) bool { return !bl[i].before(k) })
	if i == len(bl) || bl[i] != k {
		panic("memory: listing index out of step with the conversations")
	}
	o.n--
	if len(bl) == 1 {
		o.blocks = slices.Delete(o.blocks, b, b+1)
		return
	}
	o.blocks[b] = slices.Delete(bl, i, i+1)
}

// each calls fn with the keys that come after *after (all keys if after
// is nil), in listing order, until fn returns false.
func (o *ordered) each(after *listKey, fn func(listKey) bool) {
	if o == nil || len(o.blocks) == 0 {
		return
	}
	b, i := 0, 0
	if after != nil {
		a := *after
		b = sort.Search(len(o.blocks), func(j int) bool {
			bl := o.blocks[j]
			return a.before(bl[len(bl)-1])
		})
		if b == len(o.blocks) {
			return
		}
		bl := o.blocks[b]
		i = sort.Search(len(bl), func(j int) bool { return a.before(bl[j]) })
	}
	for ; b < len(o.blocks); b, i = b+1, 0 {
		for _, k := range o.blocks[b][i:] {
			if !fn(k) {
				return
			}
		}
	}
}

// len returns the number of keys.
func (o *ordered) len() int {
	if o == nil {
		return 0
	}
	return o.n
}

// indexKey names one ordered index of the listings. The listings read the
// most selective index their query allows, as the SQL stores do.
type indexKey struct {
	channel string
	kind    indexKind
	a, b    string // the party id, or the item's kind and id
}

type indexKind uint8

const (
	indexChannel indexKind = iota // every conversation of a channel
	indexUser                     // a user's inbox
	indexSeller                   // a data source's inbox
	indexItem                     // the conversations about an item
	indexPublic                   // the publicly listed types
)

// indexesOf returns the indexes that list c.
func indexesOf(c *conversation.Conversation) []indexKey {
	ks := make([]indexKey, 0, 5)
	ks = append(ks,
		indexKey{channel: c.Channel, kind: indexChannel},
		indexKey{channel: c.Channel, kind: indexUser, a: c.UserID},
		indexKey{channel: c.Channel, kind: indexSeller, a: c.DataSourceID})
	if !c.Item.IsZero() {
		ks = append(ks, indexKey{channel: c.Channel, kind: indexItem, a: string(c.Item.Kind), b: c.Item.ID})
	}
	if c.Type.Public() {
		ks = append(ks, indexKey{channel: c.Channel, kind: indexPublic})
	}
	return ks
}

// indexFor returns the index that a listing of q reads: every conversation
// that q.Matches is in it.
func indexFor(q store.ConversationQuery) indexKey {
	f := q.Filter
	switch {
	case f.UserID != "":
		return indexKey{channel: q.Channel, kind: indexUser, a: f.UserID}
	case f.DataSourceID != "":
		return indexKey{channel: q.Channel, kind: indexSeller, a: f.DataSourceID}
	case f.ProductID != "":
		return indexKey{channel: q.Channel, kind: indexItem, a: string(conversation.ItemProduct), b: f.ProductID}
	case f.OrderItemID != "":
		return indexKey{channel: q.Channel, kind: indexItem, a: string(conversation.ItemOrderItem), b: f.OrderItemID}
	}
	public := len(q.Types) > 0 || f.Type.Public()
	for _, t := range q.Types {
		public = public && t.Public()
	}
	if public {
		return indexKey{channel: q.Channel, kind: indexPublic}
	}
	return indexKey{channel: q.Channel, kind: indexChannel}
}

// indexConv adds c to its listing indexes.
func (s *Store) indexConv(c *conversation.Conversation) {
	k := keyOfConv(c)
	for _, ik := range indexesOf(c) {
		o := s.lists[ik]
		if o == nil {
			o = &ordered{}
			s.lists[ik] = o
		}
		o.insert(k)
	}
}

// moveConv moves c in its listing indexes from its place at old.
func (s *Store) moveConv(old listKey, c *conversation.Conversation) {
	k := keyOfConv(c)
	if k == old {
		return
	}
	for _, ik := range indexesOf(c) {
		o := s.lists[ik]
		o.remove(old)
		o.insert(k)
	}
}
