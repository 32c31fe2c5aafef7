package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/notify"
)

func TestWorker_Retention(t *testing.T) {
	ctx := context.Background()
	keep := func(c *notify.WorkerConfig) { c.KeepDone, c.PruneBatch = time.Hour, 2 }
	// remaining deletes what is left of the done events, to count them.
	remaining := func(e *env) int {
		n, err := e.st.PruneEvents(ctx, e.now().Add(1000*time.Hour), 1000)
		require.NoError(t, err)
		return n
	}

	t.Run("PruneDone", func(t *testing.T) {
		e := newEnv(t, 0)
		rec := &notify.Recorder{}
		w := e.worker("w1", rec, keep)
		for _, u := range []string{"u1", "u2", "u3", "u4"} {
			e.start(u, "hello")
		}
		require.Equal(t, 4, runOnce(t, w))
		// A fifth event dies: it must outlive every prune.
		e.start("u5", "hello")
		claimed, err := e.st.ClaimEvents(ctx, notify.ClaimParams{Worker: "other", Now: e.now(), Lease: time.Minute, Limit: 10})
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		require.NoError(t, e.st.FailEvent(ctx, "other", claimed[0].ID, "gave up", e.now(), true))

		e.clock.Advance(30 * time.Minute)
		n, err := w.PruneDone(ctx)
		require.NoError(t, err)
		assert.Equal(t, 0, n, "done half an hour ago: kept")

		e.clock.Advance(31 * time.Minute)
		n, err = w.PruneDone(ctx)
		require.NoError(t, err)
		assert.Equal(t, 4, n, "done more than KeepDone ago: gone, in batches of PruneBatch")
		assert.Equal(t, 0, remaining(e))
		dead, err := w.DeadEvents(ctx, "", 10)
		require.NoError(t, err)
		require.Len(t, dead, 1, "the dead event is kept")
		assert.Equal(t, claimed[0].ID, dead[0].ID)

		require.NoError(t, w.DeleteDeadEvent(ctx, dead[0].ID), "until an operator deletes it")
		dead, err = w.DeadEvents(ctx, "", 10)
		require.NoError(t, err)
		assert.Empty(t, dead)
	})

	t.Run("RunPrunesABatchPerCycle", func(t *testing.T) {
		e := newEnv(t, 0)
		w := e.worker("w1", &notify.Recorder{}, keep)
		for _, u := range []string{"u1", "u2", "u3"} {
			e.start(u, "hello")
		}
		require.Equal(t, 3, runOnce(t, w))
		e.clock.Advance(2 * time.Hour)
		require.Equal(t, 0, runOnce(t, w), "nothing to deliver; one batch pruned")
		assert.Equal(t, 1, remaining(e), "one batch of two pruned by the cycle")
	})

	t.Run("KeepDoneZeroKeepsEverything", func(t *testing.T) {
		e := newEnv(t, 0)
		w := e.worker("w1", &notify.Recorder{}, func(c *notify.WorkerConfig) { c.KeepDone = 0 })
		e.start("u1", "hello")
		require.Equal(t, 1, runOnce(t, w))
		e.clock.Advance(1000 * time.Hour)
		require.Equal(t, 0, runOnce(t, w))
		n, err := w.PruneDone(ctx)
		require.NoError(t, err)
		assert.Equal(t, 0, n)
		assert.Equal(t, 1, remaining(e))
	})

	t.Run("InvalidConfig", func(t *testing.T) {
		for _, f := range []func(*notify.WorkerConfig){
			func(c *notify.WorkerConfig) { c.KeepDone = -time.Second },
			func(c *notify.WorkerConfig) { c.PruneBatch = 0 },
		} {
			cfg := notify.DefaultWorkerConfig()
			f(&cfg)
			require.ErrorIs(t, cfg.Validate(), notify.ErrInvalidConfig)
		}
	})
}
