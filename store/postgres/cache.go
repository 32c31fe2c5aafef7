package postgres

import (
	"sync"

	"github.com/parleyhq/parley/conversation"
)

// convCacheSize bounds the conversations a Store remembers (a few
// megabytes at most).
const convCacheSize = 8192

// convCache remembers the conversations that the Store's appends with a
// Prepare last read or wrote, so that the next append to one of them
// runs its Prepare without reading it first (see AppendMessage). That is
// safe because of store.Store's Callbacks contract: a callback decides on
// fields that never change once a conversation exists, and on Status, and
// the write applies only if the conversation still has the status and the
// code (unique, random: the same conversation, even if the schema was
// emptied and its ids reused) that the callback saw. A remembered
// conversation may be out of date in its other fields; it is never
// returned to a caller. When it is full, an arbitrary conversation is
// forgotten.
type convCache struct {
	mu sync.Mutex
	m  map[int64]conversation.Conversation
}

func (c *convCache) get(id int64) (conversation.Conversation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	return v, ok
}

func (c *convCache) put(v conversation.Conversation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[int64]conversation.Conversation)
	}
	if _, ok := c.m[v.ID]; !ok && len(c.m) >= convCacheSize {
		for id := range c.m {
			delete(c.m, id)
			break
		}
	}
	c.m[v.ID] = v
}

func (c *convCache) drop(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
