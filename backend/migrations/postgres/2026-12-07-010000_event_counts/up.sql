-- Repeated failures are one row with a count (see db/events.rs `repeat_of`): a stranger's
-- wrong passwords, codes and passkey answers for a real account, and the lock-outs they cause,
-- are recorded once per (account, kind, client network, clock hour) and counted there, so
-- guessing cannot grow the table without bound.
-- `count`: how many times it happened in that hour from that network; 1 for every other event.
-- `last_at`: when the last of them happened; NULL while `count` is 1 (then it is `at`), so no
-- existing row has to be rewritten (a constant default adds a column without a rewrite).
-- `network` and `hour_start`: the key of a repeatable event; NULL for every other event. NULLs
-- are distinct in a unique index, so other events never merge.
ALTER TABLE security_events
    ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN last_at TIMESTAMP,
    ADD COLUMN network TEXT,
    ADD COLUMN hour_start TIMESTAMP;
-- The upsert's conflict target: finds this hour's row in one index probe, and makes two
-- concurrent failures meet on one row instead of inserting two.
CREATE UNIQUE INDEX security_events_repeats
    ON security_events (account_id, kind, network, hour_start);
-- Housekeeping deletes events past CUSTADMIN_EVENT_RETENTION_DAYS by time.
CREATE INDEX security_events_at ON security_events (at);
