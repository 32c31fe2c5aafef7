-- Outbox retention: done events remember when they were completed, so
-- that PruneEvents deletes those older than the retention age through one
-- index of done events only. The migration runs with search_path set to
-- the store's schema, in one transaction.

ALTER TABLE events ADD COLUMN IF NOT EXISTS done_at timestamptz;

-- Events completed before this version have no completion time: their
-- due time is the closest one known (they were done after it).
UPDATE events SET done_at = due_at WHERE state = 'done' AND done_at IS NULL;

CREATE INDEX IF NOT EXISTS events_done ON events (done_at, id) WHERE state = 'done';
