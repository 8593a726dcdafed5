DROP INDEX accounts_two_factor_deadline;
ALTER TABLE accounts DROP COLUMN two_factor_reminded_days;
ALTER TABLE accounts DROP COLUMN two_factor_required_by_support_at;
ALTER TABLE accounts DROP COLUMN two_factor_deadline;
