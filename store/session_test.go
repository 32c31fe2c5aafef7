package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/store"
)

func TestPosition_Token(t *testing.T) {
	for _, p := range []store.Position{0, 1, 0x2a, 0x16B374D848, 1<<64 - 1} {
		got, err := store.ParsePosition(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	got, err := store.ParsePosition("")
	require.NoError(t, err)
	assert.Zero(t, got)
	for _, bad := range []string{"g", "-1", "+1", "0x1", "1/2", "12345678901234567", " 1"} {
		_, err := store.ParsePosition(bad)
		assert.Error(t, err, bad)
	}
}

func TestSession_Advance(t *testing.T) {
	s := store.NewSession(10)
	assert.False(t, s.Advance(5), "never back")
	assert.Equal(t, store.Position(10), s.Position())
	assert.True(t, s.Advance(11))
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() { s.Advance(store.Position(100 + i)) })
	}
	wg.Wait()
	assert.Equal(t, store.Position(163), s.Position(), "the latest of concurrent writes wins")

	ctx := context.Background()
	assert.Nil(t, store.SessionFrom(ctx))
	assert.Same(t, s, store.SessionFrom(store.WithSession(ctx, s)))
}
