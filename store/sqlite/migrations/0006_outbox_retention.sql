-- Outbox retention: done events remember when they were completed (in
-- microseconds since the epoch, like every time of the schema), so that
-- PruneEvents deletes those older than the retention age through one
-- index of done events only.

ALTER TABLE events ADD COLUMN done_at INTEGER;

-- Events completed before this version have no completion time: their
-- due time is the closest one known (they were done after it).
UPDATE events SET done_at = due_at WHERE state = 'done';

CREATE INDEX events_done ON events (done_at, id) WHERE state = 'done';
