// Backend-neutral column types: the same schema serves SQLite and PostgreSQL.
// Kept by hand in step with migrations/{sqlite,postgres}; the migration tests load both.

diesel::table! {
    accounts (id) {
        id -> Text,
        username -> Text,
        username_key -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        totp_secret_ciphertext -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_used_step -> BigInt,
        totp_pending_ciphertext -> Nullable<Text>,
        totp_pending_created_at -> Nullable<Timestamp>,
        language -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamp>,
        pending_email -> Nullable<Text>,
        two_factor_enabled_at -> Nullable<Timestamp>,
        verification_mail_owed_at -> Nullable<Timestamp>,
        two_factor_deadline -> Nullable<Timestamp>,
        two_factor_required_by_support_at -> Nullable<Timestamp>,
        two_factor_reminded_days -> Nullable<Integer>,
        password_sign_in_blocked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttles (subject) {
        subject -> Text,
        consecutive_failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    throttle_entries (id) {
        id -> Text,
        subject -> Text,
        at -> Timestamp,
        settled -> Bool,
    }
}

diesel::table! {
    known_devices (id) {
        id -> Text,
        account_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        user_agent -> Nullable<Text>,
        trusted_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        auth_time -> Timestamp,
        amr -> Text,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        device_id -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        parent_hash -> Nullable<Text>,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    otp_challenges (id) {
        id -> Text,
        account_id -> Text,
        password_verified_at -> Timestamp,
        expires_at -> Timestamp,
        failed_attempts -> Integer,
        consumed_at -> Nullable<Timestamp>,
        device_token_hash -> Nullable<Text>,
    }
}

diesel::table! {
    recovery_codes (account_id, code_hash) {
        account_id -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    security_events (id) {
        id -> BigInt,
        account_id -> Nullable<Text>,
        kind -> Text,
        at -> Timestamp,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        detail -> Nullable<Text>,
        count -> Integer,
        last_at -> Nullable<Timestamp>,
        network -> Nullable<Text>,
        hour_start -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        purpose -> Text,
        email -> Nullable<Text>,
        password_fingerprint -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        recipient -> Text,
        subject -> Text,
        body_ciphertext -> Nullable<Text>,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        lease_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        scopes -> Text,
        prefix -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        allowed_networks -> Nullable<Text>,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        account_id -> Text,
        credential_id -> Text,
        credential -> Text,
        sign_count -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    used_passwordless_challenges (challenge) {
        challenge -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webauthn_ceremonies (ceremony_key) {
        ceremony_key -> Text,
        account_id -> Nullable<Text>,
        state -> Text,
        passkey_name -> Nullable<Text>,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    oidc_clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        require_two_factor -> Bool,
        offer_two_factor_setup -> Bool,
        id_token_signed_response_alg -> Text,
        created_at -> Timestamp,
        secret_rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oidc_authorization_requests (id_hash) {
        id_hash -> Text,
        client_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        state -> Nullable<Text>,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        prompt -> Nullable<Text>,
        max_age -> Nullable<BigInt>,
        login_hint -> Nullable<Text>,
        ui_locales -> Nullable<Text>,
        acr -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oidc_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        redirect_uri -> Text,
        account_id -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        session_id -> Text,
        auth_time -> Timestamp,
        amr -> Text,
        acr -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        grant_id -> Nullable<Text>,
    }
}

diesel::table! {
    oidc_grants (id) {
        id -> Text,
        client_id -> Text,
        account_id -> Text,
        scope -> Text,
        session_id -> Text,
        auth_time -> Timestamp,
        amr -> Text,
        acr -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    oidc_refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oidc_consents (account_id, client_id) {
        account_id -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(passkeys -> accounts (account_id));
diesel::joinable!(api_tokens -> accounts (account_id));
diesel::joinable!(email_tokens -> accounts (account_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(otp_challenges -> accounts (account_id));
diesel::joinable!(recovery_codes -> accounts (account_id));
diesel::joinable!(security_events -> accounts (account_id));
diesel::joinable!(known_devices -> accounts (account_id));
diesel::joinable!(oidc_authorization_requests -> oidc_clients (client_id));
diesel::joinable!(oidc_codes -> oidc_clients (client_id));
diesel::joinable!(oidc_grants -> oidc_clients (client_id));
diesel::joinable!(oidc_refresh_tokens -> oidc_grants (grant_id));
diesel::joinable!(oidc_consents -> oidc_clients (client_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    login_throttles,
    throttle_entries,
    known_devices,
    sessions,
    refresh_tokens,
    otp_challenges,
    recovery_codes,
    security_events,
    email_tokens,
    outbox,
    api_tokens,
    passkeys,
    used_passwordless_challenges,
    webauthn_ceremonies,
    oidc_clients,
    oidc_authorization_requests,
    oidc_codes,
    oidc_grants,
    oidc_refresh_tokens,
    oidc_consents,
);
