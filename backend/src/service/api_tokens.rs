//! API tokens for integrators: made by a signed-in holder (a privileged action), shown once,
//! listed without their secret, revoked at will, and turned into a [`Principal`] with scopes.

use chrono::TimeDelta;

use super::error::{Refusal, ServiceError};
use super::notifications::{self, Notice};
use super::proof::{self, Admitted, Proof, Required, Rule};
use super::throttle::{self, Subject};
use super::token_networks::TokenLookup;
use super::two_factor_requirement;
use super::{ApiTokenAccess, AppState, Principal};
use crate::auth::opaque_token;
use crate::db::api_tokens;
use crate::db::events::{self, EventKind};
use crate::domain::{ApiToken, InvalidInput, Label, RequestOrigin, Role, Scope};
use ipnet::IpNet;

/// Every API token starts so: recognisable in code, logs and secret scanners.
pub const TOKEN_PREFIX: &str = "cat_";
pub const LONGEST_LIFETIME_DAYS: i64 = 365;
/// A token with a support scope acts on customers without its holder present: it lives a
/// month at most, and each one made needs a fresh second factor and counts as a support action.
pub const LONGEST_SUPPORT_LIFETIME_DAYS: i64 = 30;
/// Tokens an account may hold at once (each made one is also mailed about).
pub const MAX_LIVE_TOKENS: usize = 20;
/// How much of the token the listing shows.
const SHOWN_PREFIX_CHARS: usize = 8;

/// What a new token may do, checked once.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub lifetime_days: i64,
    /// The networks it may be used from (`None`: any); see [`NewToken::bound_to`].
    pub allowed_networks: Option<Vec<IpNet>>,
}

impl NewToken {
    pub fn parse(
        name: &str,
        scopes: &[Scope],
        lifetime_days: i64,
        role: Role,
    ) -> Result<Self, ServiceError> {
        let name = Label::parse("name", name)?.into_string();
        let mut scopes = scopes.to_vec();
        scopes.sort_by_key(|scope| scope.as_str());
        scopes.dedup();
        if scopes.is_empty() {
            return Err(InvalidInput::field("scopes", "name at least one scope").into());
        }
        if role != Role::Support && scopes.iter().any(|scope| scope.is_support()) {
            return Err(Refusal::InsufficientScope.into());
        }
        if !(1..=LONGEST_LIFETIME_DAYS).contains(&lifetime_days) {
            return Err(
                InvalidInput::field("expires_in_days", "a token lives 1 to 365 days").into(),
            );
        }
        if scopes.iter().any(|scope| scope.is_support())
            && lifetime_days > LONGEST_SUPPORT_LIFETIME_DAYS
        {
            return Err(InvalidInput::field(
                "expires_in_days",
                "a token with a support scope lives 1 to 30 days",
            )
            .into());
        }
        Ok(Self {
            name,
            scopes,
            lifetime_days,
            allowed_networks: None,
        })
    }

    /// Binds the token to the networks given as CIDR text (at most 20); `None` leaves it
    /// usable from any network.
    pub fn bound_to(mut self, networks: Option<&[String]>) -> Result<Self, InvalidInput> {
        self.allowed_networks = networks
            .map(super::token_networks::parse_allowed_networks)
            .transpose()?;
        Ok(self)
    }

    /// Whether the token may act on customers (any support scope).
    pub fn is_support(&self) -> bool {
        self.scopes.iter().any(|scope| scope.is_support())
    }
}

/// Makes a token (a privileged action); answers it and its secret, the only time. A token with
/// a support scope needs a second factor in the request however recent the sign-in, and counts
/// against the agent's support actions.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    new: NewToken,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<(ApiToken, String), ServiceError> {
    let now = state.now();
    let support = new.is_support();
    let (rule, required) = if support {
        (Rule::FreshSecondFactor, Required::AgentWithTwoFactor)
    } else {
        (Rule::Privileged, Required::Account)
    };
    let secret = format!("{TOKEN_PREFIX}{}", opaque_token::generate().token);
    let token = ApiToken {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: principal.account_id.clone(),
        name: new.name,
        scopes: new.scopes,
        prefix: secret.chars().take(SHOWN_PREFIX_CHARS).collect(),
        created_at: now,
        last_used_at: None,
        expires_at: now + TimeDelta::days(new.lifetime_days),
        allowed_networks: new.allowed_networks,
    };
    let hash = opaque_token::hash(&secret);
    let (account, made) = (principal.account.clone(), token.clone());
    proof::privileged(
        state,
        principal,
        proof,
        rule,
        required,
        origin,
        move |connection, admitted| {
            let Admitted { state, origin, .. } = admitted;
            if api_tokens::live_for_account(connection, &account.id, now)?.len() >= MAX_LIVE_TOKENS
            {
                return Err(InvalidInput::field(
                    "name",
                    "an account holds at most 20 live tokens; revoke one first",
                )
                .into());
            }
            if support {
                // After the proof: a stranger with the session cannot use up the allowance.
                let allowance = Subject::SupportActions {
                    agent_id: account.id.clone(),
                };
                throttle::begin(connection, &[allowance], now)?.kept(connection)?;
            }
            api_tokens::insert(connection, &made, &hash)?;
            let scopes: Vec<&str> = made.scopes.iter().map(|scope| scope.as_str()).collect();
            let detail = format!(
                "{} ({}), scopes {}{}",
                made.name,
                made.prefix,
                scopes.join(" "),
                super::token_networks::describe(made.allowed_networks.as_deref())
            );
            events::record(
                connection,
                &account.id,
                EventKind::ApiTokenCreated,
                now,
                &origin,
                Some(&detail),
            )?;
            notifications::queue_notice(
                &state,
                connection,
                &account,
                Notice::ApiTokenCreated { name: made.name },
                &origin,
                now,
            )
        },
    )
    .await?;
    Ok((token, secret))
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<Vec<ApiToken>, ServiceError> {
    let (account_id, now) = (principal.account_id.clone(), state.now());
    Ok(state
        .database
        .run(move |connection| api_tokens::live_for_account(connection, &account_id, now))
        .await?)
}

pub async fn revoke(
    state: &AppState,
    principal: &Principal,
    token_id: &str,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let (account_id, token_id, origin) = (
        principal.account_id.clone(),
        token_id.to_string(),
        origin.clone(),
    );
    state
        .database
        .transaction(move |connection| {
            if !api_tokens::revoke_of_account(connection, &account_id, &token_id, now)? {
                return Err(Refusal::NotFound.into());
            }
            Ok(events::record(
                connection,
                &account_id,
                EventKind::ApiTokenRevoked,
                now,
                &origin,
                Some(&format!("token {token_id}")),
            )?)
        })
        .await
}

/// Turns a presented `cat_` token into its caller: one indexed lookup; a token bound to
/// networks is refused from outside them (see [`super::token_networks`]).
pub async fn authenticate(
    state: &AppState,
    secret: &str,
    origin: &RequestOrigin,
) -> Result<Principal, ServiceError> {
    let now = state.now();
    if secret.len() > 256 {
        return Err(Refusal::InvalidToken.into());
    }
    let hash = opaque_token::hash(secret);
    let origin = origin.clone();
    let lookup = state
        .database
        .run(move |connection| super::token_networks::find_usable(connection, &hash, &origin, now))
        .await?;
    let (token, mut account) = match lookup {
        TokenLookup::Usable(found) => *found,
        TokenLookup::Unknown => return Err(Refusal::InvalidToken.into()),
        TokenLookup::OutsideNetworks => return Err(Refusal::NetworkNotAllowed.into()),
    };
    let standing = two_factor_requirement::standing_now(state, &mut account, now).await?;
    // Refused by every route (`ApiCaller`), as an app's grant is at refresh and UserInfo.
    Ok(Principal {
        account_id: account.id.clone(),
        session_id: String::new(),
        role: account.role,
        auth_time: token.created_at,
        amr: Vec::new(),
        account,
        api_token: Some(ApiTokenAccess {
            token_id: token.id,
            scopes: token.scopes,
        }),
        two_factor_setup_only: !standing.admits_delegates(),
    })
}
