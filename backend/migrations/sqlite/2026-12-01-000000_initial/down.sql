DROP TABLE security_events;
DROP TABLE recovery_codes;
DROP TABLE otp_challenges;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE ip_failures;
DROP TABLE login_throttles;
DROP TABLE accounts;
