ALTER TABLE api_tokens DROP COLUMN allowed_networks;
