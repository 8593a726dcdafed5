-- Required two-factor (CUSTADMIN_REQUIRE_TWO_FACTOR, or support's for one customer):
-- the deadline of an account the requirement applies to, stored when it first applies
-- (grace days later) and cleared when it stops applying; when support required it; and the
-- smallest number of days-left a reminder mail was queued for (7, then 1), so each reminder
-- goes once across instances.
ALTER TABLE accounts ADD COLUMN two_factor_deadline TIMESTAMP;
ALTER TABLE accounts ADD COLUMN two_factor_required_by_support_at TIMESTAMP;
ALTER TABLE accounts ADD COLUMN two_factor_reminded_days INTEGER;
CREATE INDEX accounts_two_factor_deadline ON accounts (two_factor_deadline)
    WHERE two_factor_deadline IS NOT NULL;
