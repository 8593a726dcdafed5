//! API tokens bound to networks (as hosting companies bind API access to the customer's
//! servers): a token made with `allowed_networks` works only from those networks. A call from
//! elsewhere is refused and recorded in the account's security log, once an hour per token and
//! network however often it is tried, so a leaked token hammered from afar is seen without
//! the log growing with every try.

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use crate::db::accounts::Account;
use crate::db::events::{self, EventKind};
use crate::db::{api_tokens, DbConnection, DbError};
use crate::domain::{client_network, parse_ip_network, ApiToken, InvalidInput, RequestOrigin};

/// The most networks a token may be bound to.
pub const MAX_ALLOWED_NETWORKS: usize = 20;

/// What a presented token turned out to be.
pub enum TokenLookup {
    /// Boxed: the account row is large, and most lookups of a hot path are this one anyway.
    Usable(Box<(ApiToken, Account)>),
    /// No live token has this secret.
    Unknown,
    /// A live token, bound to networks the caller is outside of.
    OutsideNetworks,
}

/// Parses the networks a new token is bound to: 1 to 20 CIDR networks (IPv4 or IPv6, or
/// single addresses), kept canonical and without repeats.
pub fn parse_allowed_networks(networks: &[String]) -> Result<Vec<IpNet>, InvalidInput> {
    const FIELD: &str = "allowed_networks";
    if networks.is_empty() {
        return Err(InvalidInput::field(
            FIELD,
            "name at least one network, or leave allowed_networks out to allow any",
        ));
    }
    if networks.len() > MAX_ALLOWED_NETWORKS {
        return Err(InvalidInput::field(
            FIELD,
            format!("a token may be bound to at most {MAX_ALLOWED_NETWORKS} networks"),
        ));
    }
    let mut parsed = networks
        .iter()
        .map(|network| parse_ip_network(network).map_err(|error| InvalidInput::field(FIELD, error)))
        .collect::<Result<Vec<_>, _>>()?;
    parsed.sort();
    parsed.dedup();
    Ok(parsed)
}

/// The networks for an event's detail: ` from 203.0.113.0/24 2001:db8::/48`, or nothing.
pub fn describe(networks: Option<&[IpNet]>) -> String {
    match networks {
        Some(networks) => {
            let listed: Vec<String> = networks.iter().map(ToString::to_string).collect();
            format!(", from {}", listed.join(" "))
        }
        None => String::new(),
    }
}

/// The live token whose secret hashes to `token_hash`, if the caller at `origin` may use it;
/// its use is noted (at most once a minute). A call from outside its networks is recorded as
/// [`EventKind::ApiTokenNetworkRefused`] and does not count as a use.
pub fn find_usable(
    connection: &mut DbConnection,
    token_hash: &str,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<TokenLookup, DbError> {
    let Some((token, account)) = api_tokens::find_live(connection, token_hash, now)? else {
        return Ok(TokenLookup::Unknown);
    };
    let client = origin.ip.as_deref().and_then(|ip| ip.parse().ok());
    if !token.allows_client(client) {
        let network = origin
            .ip
            .as_deref()
            .map_or_else(|| "an unknown address".to_string(), client_network);
        events::record_for_token(
            connection,
            &account.id,
            &token.id,
            EventKind::ApiTokenNetworkRefused,
            now,
            origin,
            Some(&format!(
                "{} ({}) used from {network}",
                token.name, token.prefix
            )),
        )?;
        return Ok(TokenLookup::OutsideNetworks);
    }
    api_tokens::note_used(connection, &token, now)?;
    Ok(TokenLookup::Usable(Box::new((token, account))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn networks_are_parsed_canonical_and_without_repeats() {
        let parsed =
            parse_allowed_networks(&texts(&["203.0.113.7/24", "203.0.113.0/24", "2001:db8::1"]))
                .unwrap();
        let shown: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["203.0.113.0/24", "2001:db8::1/128"]);
        assert_eq!(
            describe(Some(&parsed)),
            ", from 203.0.113.0/24 2001:db8::1/128"
        );
        assert_eq!(describe(None), "");
    }

    #[test]
    fn at_most_twenty_valid_networks() {
        let twenty: Vec<String> = (0..20).map(|i| format!("10.0.{i}.0/24")).collect();
        assert_eq!(parse_allowed_networks(&twenty).unwrap().len(), 20);
        let mut twenty_one = twenty.clone();
        twenty_one.push("10.0.99.0/24".into());
        assert!(parse_allowed_networks(&twenty_one).is_err());
        assert!(parse_allowed_networks(&[]).is_err());
        for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/", "fd00::/200"] {
            let refused = parse_allowed_networks(&texts(&[bad])).unwrap_err();
            assert!(
                matches!(&refused, InvalidInput::Field { field, .. } if *field == "allowed_networks"),
                "{bad}: {refused:?}"
            );
        }
    }
}
