//! Creating accounts: self-service sign-up and the operator's `account create`.

use super::error::{Refusal, ServiceError};
use super::throttle::{self, Subject};
use super::{proof, two_factor_requirement, AppState};
use crate::db::accounts::{self, NewAccount};
use crate::db::DbError;
use crate::domain::{Email, Password, RequestOrigin, Role, Username};

#[derive(Debug, Clone)]
pub struct NewAccountRequest {
    pub username: Username,
    pub password: Password,
    pub email: Option<Email>,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub id: String,
    pub username: String,
}

/// Self-service sign-up: customers only, and only when the operator allows it. A taken
/// username counts against the client IP like a failed login, so sign-up cannot serve to test
/// many usernames for existence.
pub async fn sign_up(
    state: &AppState,
    username: Username,
    password: Password,
    email: Option<Email>,
    origin: &RequestOrigin,
) -> Result<CreatedAccount, ServiceError> {
    if !state.settings.signup_enabled {
        return Err(Refusal::SignupDisabled.into());
    }
    let now = state.now();
    // Counted before the name is tried, so parallel sign-ups cannot overshoot the limit.
    let subjects: Vec<Subject> = proof::network_subject(origin).into_iter().collect();
    let attempt = state
        .database
        .run(move |connection| throttle::begin(connection, &subjects, now))
        .await?;
    let created = create_account(
        state,
        NewAccountRequest {
            username,
            password,
            email,
            role: Role::Customer,
        },
    )
    .await;
    let taken = matches!(created, Err(ServiceError::Refused(Refusal::UsernameTaken)));
    state
        .database
        .transaction(move |connection| {
            if taken {
                attempt.failed(connection, now).map(|_| ())
            } else {
                attempt.released(connection)
            }
        })
        .await?;
    created
}

/// Creates an account of any role; the caller decides who may. An address given gets its
/// verification link, queued in the same transaction, or owed when the address's mail
/// allowance is used up: the mail limit never refuses an account.
pub async fn create_account(
    state: &AppState,
    request: NewAccountRequest,
) -> Result<CreatedAccount, ServiceError> {
    super::password_policy::check_new_password(
        state,
        &request.password,
        request.username.as_str(),
        request.email.as_ref().map(Email::as_str),
    )
    .await?;
    let password_hash = state.password_hasher.hash(&request.password).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let created_at = state.now();
    let username = request.username.as_str().to_string();
    let username_key = request.username.key();
    let email = request.email.map(Email::into_inner);
    let role = request.role;
    let account_id = id.clone();
    let state_for_mail = state.clone();
    state
        .database
        .transaction(move |connection| -> Result<_, ServiceError> {
            accounts::insert(
                connection,
                &NewAccount {
                    id: &account_id,
                    username: &username,
                    username_key: &username_key,
                    email: email.as_deref(),
                    password_hash: &password_hash,
                    role,
                    created_at,
                },
            )
            .map_err(|error| match error {
                // The username key is unique: a name taken, even by a concurrent sign-up, is
                // the caller's conflict, not a server error.
                DbError::Duplicate(_) => Refusal::UsernameTaken.into(),
                error => ServiceError::from(error),
            })?;
            let mut account =
                accounts::find_by_id(connection, &account_id)?.ok_or(Refusal::NotFound)?;
            // A new account's deadline for a required second factor starts at sign-up.
            two_factor_requirement::settle(
                connection,
                &state_for_mail.settings,
                &mut account,
                created_at,
            )?;
            if let Some(address) = &email {
                super::email::send_or_owe_verification(
                    &state_for_mail,
                    connection,
                    &account,
                    address,
                    created_at,
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(CreatedAccount {
        id,
        username: request.username.as_str().to_string(),
    })
}
