//! The `accounts` table: identity, password hash, role and the two-factor state.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use super::schema::accounts;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::{Language, Role};

diesel::define_sql_function! {
    /// SQL `lower()`: PostgreSQL's LIKE is case-sensitive, SQLite's is not.
    fn lower(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// An account as the rest of the code sees it: domain types, not column types.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub username_key: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// The active TOTP secret, encrypted; `None` while TOTP is off.
    pub totp_secret_ciphertext: Option<String>,
    pub totp_enabled_at: Option<DateTime<Utc>>,
    pub totp_last_used_step: i64,
    pub totp_pending_ciphertext: Option<String>,
    pub totp_pending_created_at: Option<DateTime<Utc>>,
    /// Chosen in the SPA; `None` until then.
    pub language: Option<Language>,
    /// When `email` was proven to reach the holder; only a verified address gets mail.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// A new address asked for, until its link is followed.
    pub pending_email: Option<String>,
    /// Since when the account has a second factor (TOTP, passkeys or both); `None` while off.
    pub two_factor_enabled_at: Option<DateTime<Utc>>,
    /// By when the account must have a second factor, while a requirement applies to it
    /// (see `service::two_factor_requirement`).
    pub two_factor_deadline: Option<DateTime<Utc>>,
    /// When support required a second factor of this one account; `None` when not.
    pub two_factor_required_by_support_at: Option<DateTime<Utc>>,
}

impl Account {
    /// Whether sign-ins need a second factor: TOTP, a passkey, or a recovery code.
    pub fn two_factor_enabled(&self) -> bool {
        self.two_factor_enabled_at.is_some()
    }

    pub fn totp_enabled(&self) -> bool {
        self.totp_secret_ciphertext.is_some()
    }

    /// The address mail may go to: only one proven to reach the holder.
    pub fn verified_email(&self) -> Option<&str> {
        self.email
            .as_deref()
            .filter(|_| self.email_verified_at.is_some())
    }
}

/// The `accounts` row as stored; turned into an [`Account`] before it leaves this module.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub(super) struct AccountRecord {
    id: String,
    username: String,
    username_key: String,
    email: Option<String>,
    password_hash: String,
    role: String,
    created_at: NaiveDateTime,
    totp_secret_ciphertext: Option<String>,
    totp_enabled_at: Option<NaiveDateTime>,
    totp_last_used_step: i64,
    totp_pending_ciphertext: Option<String>,
    totp_pending_created_at: Option<NaiveDateTime>,
    language: Option<String>,
    email_verified_at: Option<NaiveDateTime>,
    pending_email: Option<String>,
    two_factor_enabled_at: Option<NaiveDateTime>,
    two_factor_deadline: Option<NaiveDateTime>,
    two_factor_required_by_support_at: Option<NaiveDateTime>,
}

impl TryFrom<AccountRecord> for Account {
    type Error = DbError;

    fn try_from(record: AccountRecord) -> Result<Self, DbError> {
        let role = Role::from_db(&record.role)
            .ok_or_else(|| DbError::other(format!("unknown role {:?}", record.role)))?;
        Ok(Self {
            id: record.id,
            username: record.username,
            username_key: record.username_key,
            email: record.email,
            password_hash: record.password_hash,
            role,
            created_at: from_db_time(record.created_at),
            totp_secret_ciphertext: record.totp_secret_ciphertext,
            totp_enabled_at: record.totp_enabled_at.map(from_db_time),
            totp_last_used_step: record.totp_last_used_step,
            totp_pending_ciphertext: record.totp_pending_ciphertext,
            totp_pending_created_at: record.totp_pending_created_at.map(from_db_time),
            // A tag no longer shipped falls back to the browser's choice.
            language: record.language.as_deref().and_then(Language::from_tag),
            email_verified_at: record.email_verified_at.map(from_db_time),
            pending_email: record.pending_email,
            two_factor_enabled_at: record.two_factor_enabled_at.map(from_db_time),
            two_factor_deadline: record.two_factor_deadline.map(from_db_time),
            two_factor_required_by_support_at: record
                .two_factor_required_by_support_at
                .map(from_db_time),
        })
    }
}

fn accounts_from(records: Vec<AccountRecord>) -> Result<Vec<Account>, DbError> {
    records.into_iter().map(Account::try_from).collect()
}

#[derive(Debug)]
pub struct NewAccount<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub username_key: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Inserts an account; a taken username (in any case) is `DbError::Duplicate`.
pub fn insert(connection: &mut DbConnection, account: &NewAccount<'_>) -> Result<(), DbError> {
    diesel::insert_into(accounts::table)
        .values((
            accounts::id.eq(account.id),
            accounts::username.eq(account.username),
            accounts::username_key.eq(account.username_key),
            accounts::email.eq(account.email),
            accounts::password_hash.eq(account.password_hash),
            accounts::role.eq(account.role.as_str()),
            accounts::created_at.eq(db_time(account.created_at)),
        ))
        .execute(connection)?;
    Ok(())
}

pub fn find_by_username_key(
    connection: &mut DbConnection,
    username_key: &str,
) -> Result<Option<Account>, DbError> {
    accounts::table
        .filter(accounts::username_key.eq(username_key))
        .select(AccountRecord::as_select())
        .first(connection)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

pub fn find_by_id(connection: &mut DbConnection, id: &str) -> Result<Option<Account>, DbError> {
    accounts::table
        .find(id)
        .select(AccountRecord::as_select())
        .first(connection)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

/// Replaces the password hash if it is still `current`; `false` when another change won.
pub fn replace_password_hash(
    connection: &mut DbConnection,
    id: &str,
    current: &str,
    new: &str,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::password_hash.eq(current)),
    )
    .set((
        accounts::password_hash.eq(new),
        // An enrolment begun under the old password must not be confirmed under the new one.
        accounts::totp_pending_ciphertext.eq(None::<String>),
        accounts::totp_pending_created_at.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Takes the account row's write lock, if the password and the two-factor state are still what
/// the caller checked. As the first statement of a transaction this orders it after any
/// password change or two-factor switch that committed meanwhile, so a slow sign-in cannot
/// open a session those have already swept away.
pub fn lock_if_unchanged(
    connection: &mut DbConnection,
    id: &str,
    password_hash: &str,
    two_factor_enabled: bool,
) -> Result<bool, DbError> {
    let unchanged = accounts::table
        .find(id)
        .filter(accounts::password_hash.eq(password_hash));
    let touched = if two_factor_enabled {
        diesel::update(unchanged.filter(accounts::two_factor_enabled_at.is_not_null()))
            .set(accounts::id.eq(accounts::id))
            .execute(connection)?
    } else {
        diesel::update(unchanged.filter(accounts::two_factor_enabled_at.is_null()))
            .set(accounts::id.eq(accounts::id))
            .execute(connection)?
    };
    Ok(touched == 1)
}

/// Takes the account row's write lock if two-factor is still on.
pub fn lock_if_two_factor_enabled(
    connection: &mut DbConnection,
    id: &str,
) -> Result<bool, DbError> {
    let touched = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::two_factor_enabled_at.is_not_null()),
    )
    .set(accounts::id.eq(accounts::id))
    .execute(connection)?;
    Ok(touched == 1)
}

/// Takes the account row's write lock if TOTP is still off.
pub fn lock_if_totp_disabled(connection: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    let touched = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::totp_secret_ciphertext.is_null()),
    )
    .set(accounts::id.eq(accounts::id))
    .execute(connection)?;
    Ok(touched == 1)
}

/// Takes the account row's write lock; `false` when the account is gone.
pub fn lock(connection: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    let touched = diesel::update(accounts::table.find(id))
        .set(accounts::id.eq(accounts::id))
        .execute(connection)?;
    Ok(touched == 1)
}

/// Stores (or replaces) the secret of an enrolment awaiting confirmation.
pub fn set_pending_totp(
    connection: &mut DbConnection,
    id: &str,
    ciphertext: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let updated = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::totp_secret_ciphertext.is_null()),
    )
    .set((
        accounts::totp_pending_ciphertext.eq(ciphertext),
        accounts::totp_pending_created_at.eq(now),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Promotes the pending secret to the active one, marking `step` used. Conditional on the
/// pending secret being the one the caller verified, so a concurrent re-enrolment or a second
/// confirmation cannot switch on a secret nobody proved.
pub fn enable_totp(
    connection: &mut DbConnection,
    id: &str,
    verified_pending_ciphertext: &str,
    step: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let updated = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::totp_secret_ciphertext.is_null())
            .filter(accounts::totp_pending_ciphertext.eq(verified_pending_ciphertext)),
    )
    .set((
        accounts::totp_secret_ciphertext.eq(Some(verified_pending_ciphertext)),
        accounts::totp_enabled_at.eq(Some(now)),
        accounts::totp_last_used_step.eq(step),
        accounts::totp_pending_ciphertext.eq(None::<String>),
        accounts::totp_pending_created_at.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Claims a TOTP step for the account. One statement, conditional on the step being newer than
/// any accepted before (and on the secret being the one the code was checked against), so of
/// concurrent requests with one code exactly one gets `true`.
pub fn claim_totp_step(
    connection: &mut DbConnection,
    id: &str,
    verified_ciphertext: &str,
    step: i64,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::totp_secret_ciphertext.eq(verified_ciphertext))
            .filter(accounts::totp_last_used_step.lt(step)),
    )
    .set(accounts::totp_last_used_step.eq(step))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Marks two-factor on if it was off; `true` when this made it so (the account's first
/// second factor, which gets the recovery codes).
pub fn switch_two_factor_on(
    connection: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::two_factor_enabled_at.is_null()),
    )
    .set(accounts::two_factor_enabled_at.eq(Some(db_time(now))))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Switches two-factor off and forgets the TOTP secrets. `false` when it was already off.
pub fn disable_two_factor(connection: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    let updated = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::two_factor_enabled_at.is_not_null()),
    )
    .set((
        accounts::two_factor_enabled_at.eq(None::<NaiveDateTime>),
        accounts::totp_secret_ciphertext.eq(None::<String>),
        accounts::totp_enabled_at.eq(None::<NaiveDateTime>),
        accounts::totp_last_used_step.eq(0),
        accounts::totp_pending_ciphertext.eq(None::<String>),
        accounts::totp_pending_created_at.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Customers whose username, e-mail address or e-mail domain (the part after `@`) starts with
/// `query` (any case; matched literally), by username; an empty query lists the first ones.
///
/// Prefixes, not substrings, so that an index serves every query at a million accounts: each
/// of the three is a range `q <= x < successor(q)` in code point order over a B-tree index on
/// exactly that expression (migrations 2026-12-06-100000 and 2026-12-10-000000; PostgreSQL
/// compares with the "C" collation there, whatever the database's default, and so orders the
/// usernames too, as Rust's `str` does for the merge).
///
/// One query OR-ing the three ranges would read and sort every match (a domain shared by a
/// thousand customers is read whole to answer fifty), so each branch is a query of its own
/// bounded by `limit` and served in username order, and the branches are merged here:
/// - the username range walks the username index, which is that order;
/// - an address or domain range that holds a few distinct values (found by a loose index scan)
///   is one query per value on the index (value, username), each read in username order;
/// - a range of more values (a short prefix) walks the username order and filters: it matches
///   many accounts, so the walk meets `limit` of them early.
///
/// The queries are boxed, which Diesel never keeps as named prepared statements, so PostgreSQL
/// plans every search with its values.
pub fn search_customers(
    connection: &mut DbConnection,
    query: &str,
    limit: i64,
) -> Result<Vec<Account>, DbError> {
    let query = query.to_lowercase();
    let expressions = SearchExpressions::of(connection);
    if query.is_empty() {
        return customers_by_username(connection, &expressions, None, limit)
            .and_then(accounts_from);
    }
    let end = prefix_successor(&query);
    let range = PrefixRange {
        from: &query,
        to: end.as_deref(),
    };
    let mut found = customers_by_username(
        connection,
        &expressions,
        Some(range.condition(expressions.username)),
        limit,
    )?;
    for (indexed, unindexed) in [
        (expressions.email, expressions.email_unindexed),
        (expressions.domain, expressions.domain_unindexed),
    ] {
        match distinct_values(connection, indexed, range)? {
            Some(values) => {
                for value in values {
                    let condition = sql::<Nullable<Bool>>("(")
                        .sql(indexed)
                        .sql(" = ")
                        .bind::<Text, _>(value)
                        .sql(")");
                    found.extend(customers_by_username(
                        connection,
                        &expressions,
                        Some(Box::new(condition)),
                        limit,
                    )?);
                }
            }
            None => found.extend(customers_by_username(
                connection,
                &expressions,
                Some(range.condition(unindexed)),
                limit,
            )?),
        }
    }
    // Usernames are unique, so after the sort an account found by two branches is adjacent.
    found.sort_by(|a, b| a.username_key.cmp(&b.username_key));
    found.dedup_by(|a, b| a.id == b.id);
    found.truncate(usize::try_from(limit).unwrap_or(0));
    accounts_from(found)
}

type SearchCondition = Box<
    dyn BoxableExpression<
        accounts::table,
        <DbConnection as diesel::Connection>::Backend,
        SqlType = Nullable<Bool>,
    >,
>;

/// How many distinct addresses or domains a prefix may cover before the search walks the
/// username order instead of querying each: past a few, the prefix is short and common.
const MAX_DISTINCT_VALUES: usize = 16;

/// The indexed expressions, as the migrations write them for each backend, and the username
/// order the indexes (value, username) hold.
struct SearchExpressions {
    username: &'static str,
    email: &'static str,
    domain: &'static str,
    /// The same expressions with no index usable for them: SQLite ignores an index for a term
    /// written `+x`, and would otherwise read a short prefix's whole range from the expression
    /// index and sort it rather than walk the username index. PostgreSQL chooses by its
    /// statistics, which know how many accounts a range holds.
    email_unindexed: &'static str,
    domain_unindexed: &'static str,
    username_order: &'static str,
}

impl SearchExpressions {
    fn of(connection: &DbConnection) -> Self {
        match connection {
            DbConnection::Postgresql(_) => Self {
                username: r#"(accounts.username_key COLLATE "C")"#,
                email: r#"(lower(accounts.email) COLLATE "C")"#,
                domain: r#"(lower(substr(accounts.email, strpos(accounts.email, '@') + 1)) COLLATE "C")"#,
                email_unindexed: r#"(lower(accounts.email) COLLATE "C")"#,
                domain_unindexed: r#"(lower(substr(accounts.email, strpos(accounts.email, '@') + 1)) COLLATE "C")"#,
                username_order: r#"accounts.username_key COLLATE "C""#,
            },
            DbConnection::Sqlite(_) => Self {
                username: "accounts.username_key",
                email: "lower(accounts.email)",
                domain: "lower(substr(accounts.email, instr(accounts.email, '@') + 1))",
                email_unindexed: "+lower(accounts.email)",
                domain_unindexed: "+lower(substr(accounts.email, instr(accounts.email, '@') + 1))",
                username_order: "accounts.username_key",
            },
        }
    }
}

/// `from <= x < to`: the strings that start with the prefix `from` (`to` is its successor).
#[derive(Clone, Copy)]
struct PrefixRange<'a> {
    from: &'a str,
    to: Option<&'a str>,
}

impl PrefixRange<'_> {
    fn condition(self, expression: &str) -> SearchCondition {
        let from = sql::<Nullable<Bool>>("(")
            .sql(expression)
            .sql(" >= ")
            .bind::<Text, _>(self.from.to_string());
        match self.to {
            Some(to) => Box::new(
                from.sql(" AND ")
                    .sql(expression)
                    .sql(" < ")
                    .bind::<Text, _>(to.to_string())
                    .sql(")"),
            ),
            None => Box::new(from.sql(")")),
        }
    }
}

/// The first `limit` customers meeting `condition`, in username order.
fn customers_by_username(
    connection: &mut DbConnection,
    expressions: &SearchExpressions,
    condition: Option<SearchCondition>,
    limit: i64,
) -> Result<Vec<AccountRecord>, DbError> {
    let mut found = accounts::table
        .filter(accounts::role.eq(Role::Customer.as_str()))
        .into_boxed();
    if let Some(condition) = condition {
        found = found.filter(condition);
    }
    Ok(found
        .order(sql::<Text>(expressions.username_order).asc())
        .limit(limit)
        .select(AccountRecord::as_select())
        .load(connection)?)
}

#[derive(QueryableByName)]
struct DistinctValue {
    #[diesel(sql_type = Text)]
    value: String,
}

/// The distinct values of `expression` in `range`, in order, found by a loose index scan (each
/// step the least value above the previous one, one index probe); `None` when there are more
/// than `MAX_DISTINCT_VALUES`.
fn distinct_values(
    connection: &mut DbConnection,
    expression: &str,
    range: PrefixRange<'_>,
) -> Result<Option<Vec<String>>, DbError> {
    let (from, to) = match connection {
        DbConnection::Postgresql(_) => ("$1", "$2"),
        DbConnection::Sqlite(_) => ("?1", "?2"),
    };
    let below_end = match range.to {
        Some(_) => format!(" AND {expression} < {to}"),
        None => String::new(),
    };
    // The step reads one index entry; the depth stops the recursion one past the cap.
    let statement = format!(
        "WITH RECURSIVE found(value, depth) AS ( \
           SELECT (SELECT {expression} FROM accounts WHERE {expression} >= {from}{below_end} \
                   ORDER BY {expression} LIMIT 1), 1 \
           UNION ALL \
           SELECT (SELECT {expression} FROM accounts WHERE {expression} > found.value{below_end} \
                   ORDER BY {expression} LIMIT 1), found.depth + 1 \
           FROM found WHERE found.value IS NOT NULL AND found.depth <= {MAX_DISTINCT_VALUES} \
         ) SELECT value FROM found WHERE value IS NOT NULL"
    );
    let query = diesel::sql_query(statement).bind::<Text, _>(range.from.to_string());
    let values: Vec<DistinctValue> = match range.to {
        Some(to) => query.bind::<Text, _>(to.to_string()).load(connection)?,
        None => query.load(connection)?,
    };
    Ok((values.len() <= MAX_DISTINCT_VALUES)
        .then(|| values.into_iter().map(|found| found.value).collect()))
}

/// The least string greater than every string that starts with `prefix`, in code point order
/// (SQLite's BINARY and PostgreSQL's "C" collation compare UTF-8 bytes, which orders as code
/// points): the prefix
/// with its last character raised by one. `None` when no such string exists.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Remembers the language the customer chose.
pub fn set_language(
    connection: &mut DbConnection,
    id: &str,
    language: Language,
) -> Result<(), DbError> {
    diesel::update(accounts::table.find(id))
        .set(accounts::language.eq(language.tag()))
        .execute(connection)?;
    Ok(())
}

/// Asks for a new address: kept apart until its link is followed.
pub fn set_pending_email(
    connection: &mut DbConnection,
    id: &str,
    email: &str,
) -> Result<(), DbError> {
    diesel::update(accounts::table.find(id))
        .set(accounts::pending_email.eq(Some(email)))
        .execute(connection)?;
    Ok(())
}

/// Marks `email` verified: the pending address becomes the account's, or the address given at
/// sign-up is confirmed. `false` when the account has moved on to another address meanwhile.
pub fn verify_email(
    connection: &mut DbConnection,
    id: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let promoted = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::pending_email.eq(email)),
    )
    .set((
        accounts::email.eq(Some(email)),
        accounts::pending_email.eq(None::<String>),
        accounts::email_verified_at.eq(Some(now)),
    ))
    .execute(connection)?;
    if promoted == 1 {
        return Ok(true);
    }
    let confirmed = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::email.eq(email))
            .filter(accounts::email_verified_at.is_null()),
    )
    .set(accounts::email_verified_at.eq(Some(now)))
    .execute(connection)?;
    Ok(confirmed == 1)
}

/// The accounts whose verified address is `email` (case-insensitive), for password resets:
/// addresses are not unique, and each account's holder gets their own link.
pub fn find_by_verified_email(
    connection: &mut DbConnection,
    email: &str,
) -> Result<Vec<Account>, DbError> {
    accounts::table
        .filter(lower(accounts::email).eq(email.to_lowercase()))
        .filter(accounts::email_verified_at.is_not_null())
        .order(accounts::created_at.asc())
        .limit(10)
        .select(AccountRecord::as_select())
        .load(connection)
        .map_err(DbError::from)
        .and_then(accounts_from)
}

/// Drops an address change that was asked for but not verified.
pub fn clear_pending_email(connection: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::update(accounts::table.find(id))
        .set(accounts::pending_email.eq(None::<String>))
        .execute(connection)?;
    Ok(())
}

impl Account {
    /// The address a verification link would prove: a pending new one, or the sign-up
    /// address while unverified.
    pub fn address_awaiting_verification(&self) -> Option<&str> {
        self.pending_email.as_deref().or_else(|| {
            self.email
                .as_deref()
                .filter(|_| self.email_verified_at.is_none())
        })
    }
}

/// The account owes its holder a verification mail the allowance held back (kept from the
/// first time it was owed).
pub fn owe_verification_mail(
    connection: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::verification_mail_owed_at.is_null()),
    )
    .set(accounts::verification_mail_owed_at.eq(Some(db_time(now))))
    .execute(connection)?;
    Ok(())
}

/// Since when the account owes a verification mail, if it does.
pub fn verification_mail_owed_since(
    connection: &mut DbConnection,
    id: &str,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(accounts::table
        .find(id)
        .select(accounts::verification_mail_owed_at)
        .first::<Option<NaiveDateTime>>(connection)
        .optional()?
        .flatten()
        .map(from_db_time))
}

/// The verification mail is sent (or no longer owed).
pub fn settle_verification_mail(connection: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::verification_mail_owed_at.is_not_null()),
    )
    .set(accounts::verification_mail_owed_at.eq(None::<NaiveDateTime>))
    .execute(connection)?;
    Ok(())
}

/// Accounts owing a verification mail, oldest debt first, after `after` (the last of the
/// previous page): a page through the owed ones by its partial index.
pub fn owing_verification_mail(
    connection: &mut DbConnection,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<(DateTime<Utc>, String)>, DbError> {
    let mut query = accounts::table
        .filter(accounts::verification_mail_owed_at.is_not_null())
        .select((accounts::verification_mail_owed_at, accounts::id))
        .order((
            accounts::verification_mail_owed_at.asc(),
            accounts::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((owed_at, id)) = after {
        let owed_at = db_time(owed_at);
        query = query.filter(
            accounts::verification_mail_owed_at
                .gt(owed_at)
                .or(accounts::verification_mail_owed_at
                    .eq(owed_at)
                    .and(accounts::id.gt(id))),
        );
    }
    Ok(query
        .load::<(Option<NaiveDateTime>, String)>(connection)?
        .into_iter()
        .filter_map(|(owed_at, id)| owed_at.map(|owed_at| (from_db_time(owed_at), id)))
        .collect())
}

/// Stores the account's two-factor deadline, or clears it (`None`); a new deadline owes its
/// reminders afresh. `false` when the account is gone.
pub fn set_two_factor_deadline(
    connection: &mut DbConnection,
    id: &str,
    deadline: Option<DateTime<Utc>>,
) -> Result<bool, DbError> {
    Ok(diesel::update(accounts::table.find(id))
        .set((
            accounts::two_factor_deadline.eq(deadline.map(db_time)),
            accounts::two_factor_reminded_days.eq(None::<i32>),
        ))
        .execute(connection)?
        == 1)
}

/// Stores `deadline` only where none is stored yet: of instances noticing the rule at once,
/// the first one's deadline stands. `true` when this call stored it.
pub fn start_two_factor_deadline(
    connection: &mut DbConnection,
    id: &str,
    deadline: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::two_factor_deadline.is_null()),
    )
    .set((
        accounts::two_factor_deadline.eq(Some(db_time(deadline))),
        accounts::two_factor_reminded_days.eq(None::<i32>),
    ))
    .execute(connection)?
        == 1)
}

/// Support requires (`Some(now)`) or stops requiring (`None`) a second factor of the account.
pub fn set_two_factor_required_by_support(
    connection: &mut DbConnection,
    id: &str,
    since: Option<DateTime<Utc>>,
) -> Result<bool, DbError> {
    Ok(diesel::update(accounts::table.find(id))
        .set(accounts::two_factor_required_by_support_at.eq(since.map(db_time)))
        .execute(connection)?
        == 1)
}

/// Accounts still without a second factor whose deadline is between `now` and `until` and
/// that have not been reminded for `days` (or fewer) days left: who is owed that reminder.
pub fn owed_two_factor_reminder(
    connection: &mut DbConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    days: i32,
    limit: i64,
) -> Result<Vec<Account>, DbError> {
    accounts::table
        .filter(accounts::two_factor_deadline.gt(db_time(now)))
        .filter(accounts::two_factor_deadline.le(db_time(until)))
        .filter(accounts::two_factor_enabled_at.is_null())
        .filter(
            accounts::two_factor_reminded_days
                .is_null()
                .or(accounts::two_factor_reminded_days.gt(days)),
        )
        .order(accounts::two_factor_deadline.asc())
        .limit(limit)
        .select(AccountRecord::as_select())
        .load(connection)
        .map_err(DbError::from)
        .and_then(accounts_from)
}

/// Claims the `days`-left reminder of the account: exactly one instance gets `true`.
pub fn claim_two_factor_reminder(
    connection: &mut DbConnection,
    id: &str,
    days: i32,
) -> Result<bool, DbError> {
    Ok(diesel::update(
        accounts::table.find(id).filter(
            accounts::two_factor_reminded_days
                .is_null()
                .or(accounts::two_factor_reminded_days.gt(days)),
        ),
    )
    .set(accounts::two_factor_reminded_days.eq(Some(days)))
    .execute(connection)?
        == 1)
}

/// Refuses signing in with the password from now on (the holder said "this wasn't me");
/// kept from the first report until it is cleared.
pub fn block_password_sign_in(
    connection: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::password_sign_in_blocked_at.is_null()),
    )
    .set(accounts::password_sign_in_blocked_at.eq(Some(db_time(now))))
    .execute(connection)?;
    Ok(())
}

/// Since when signing in with the password is refused, if it is.
pub fn password_sign_in_blocked_since(
    connection: &mut DbConnection,
    id: &str,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(accounts::table
        .find(id)
        .select(accounts::password_sign_in_blocked_at)
        .first::<Option<NaiveDateTime>>(connection)
        .optional()?
        .flatten()
        .map(from_db_time))
}

/// Allows signing in with the password again; `true` when it was refused until now.
pub fn clear_password_sign_in_block(
    connection: &mut DbConnection,
    id: &str,
) -> Result<bool, DbError> {
    let cleared = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::password_sign_in_blocked_at.is_not_null()),
    )
    .set(accounts::password_sign_in_blocked_at.eq(None::<NaiveDateTime>))
    .execute(connection)?;
    Ok(cleared == 1)
}

#[cfg(test)]
mod tests {
    use super::prefix_successor;

    #[test]
    fn the_successor_of_a_prefix_bounds_exactly_the_strings_that_start_with_it() {
        assert_eq!(prefix_successor("al").as_deref(), Some("am"));
        assert_eq!(prefix_successor("a\u{d7ff}").as_deref(), Some("a\u{e000}"));
        assert_eq!(prefix_successor("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{10ffff}"), None);
        let end = prefix_successor("al").unwrap();
        for inside in ["al", "alice", "al\u{10ffff}x"] {
            assert!("al" <= inside && inside < end.as_str(), "{inside}");
        }
        for outside in ["a", "ak\u{10ffff}", "am", "b"] {
            assert!(!("al" <= outside && outside < end.as_str()), "{outside}");
        }
    }
}
