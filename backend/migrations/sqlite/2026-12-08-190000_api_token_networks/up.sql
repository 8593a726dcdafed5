-- The networks an API token may be used from: space-separated CIDR networks in canonical form
-- (`203.0.113.0/24 2001:db8::/48`), at most 20; NULL: any network.
ALTER TABLE api_tokens ADD COLUMN allowed_networks TEXT;
