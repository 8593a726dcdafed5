-- Rows that counted several failures stay, as one failure each.
DROP INDEX security_events_at;
DROP INDEX security_events_repeats;
ALTER TABLE security_events DROP COLUMN hour_start;
ALTER TABLE security_events DROP COLUMN network;
ALTER TABLE security_events DROP COLUMN last_at;
ALTER TABLE security_events DROP COLUMN count;
