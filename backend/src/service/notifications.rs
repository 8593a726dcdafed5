//! Mails to the customer: single-use links, and a notice whenever their security changes. A
//! mail is written to the outbox in the transaction of the change it reports (so it is sent
//! if and only if the change happened), encrypted, and delivered later by `service::outbox`.
//! Mails speak the account's language and carry no secret beyond a link's token; they come
//! from the site name (the sender's name, set in `config.rs`), say it in the subject and sign
//! with it.

use chrono::{DateTime, Utc};

use super::error::ServiceError;
use super::{not_me_links, AppState};
use crate::db::accounts::Account;
use crate::db::events::{self, EventKind};
use crate::db::{outbox, DbConnection};
use crate::domain::{rough_user_agent, Language, RequestOrigin};
use crate::mail::MailBody;

/// A change to the account's security the holder is told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The account's first second factor: an authenticator app, or the passkey named.
    TwoFactorEnabled {
        passkey: Option<String>,
    },
    /// An authenticator app added beside the account's passkeys.
    AuthenticatorAppAdded,
    TwoFactorDisabled,
    TwoFactorResetBySupport,
    RecoveryCodeUsed {
        left: i64,
    },
    RecoveryCodesRegenerated,
    PasswordChanged,
    PasswordReset,
    /// Sent to the old address.
    EmailChangeRequested {
        new_email: String,
    },
    /// A correct password followed by a wrong code: the password is known to someone.
    WrongCodeAfterPassword,
    ApiTokenCreated {
        name: String,
    },
    PasskeyAdded {
        name: String,
    },
    PasskeyRemoved {
        name: String,
    },
    /// Support now requires a second factor of the account, by `by` (`None`: it has one).
    TwoFactorRequiredBySupport {
        by: Option<DateTime<Utc>>,
    },
    /// A full sign-in from a device the account had not signed in on before (never the
    /// account's first device).
    SignInFromNewDevice,
    /// The holder confirmed "this wasn't me": what ended, and how to get back in (the reset
    /// page's URL).
    NotMeReported {
        reset_page: String,
    },
    /// Support's unlock cleared the block a "this wasn't me" report set.
    PasswordSignInUnblockedBySupport,
    /// The holder allowed the app named (a relying party signing in with the account) to see
    /// the account, or more of it.
    AppAccessGranted {
        app: String,
    },
    /// The holder removed the app's access.
    AppAccessRevoked {
        app: String,
    },
}

impl Notice {
    /// Whether the mail carries a "this wasn't me" link: every notice but the one saying the
    /// holder used one (a second report would only end their own fresh sign-in).
    fn offers_not_me_link(&self) -> bool {
        !matches!(self, Self::NotMeReported { .. })
    }
}

/// A mail whose point is its single-use link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkMail {
    VerifyEmail {
        email: String,
        link: String,
    },
    ResetPassword {
        link: String,
    },
    /// A second factor is required and still missing; `link` opens Account Settings.
    TwoFactorDeadline {
        by: DateTime<Utc>,
        link: String,
    },
}

/// When recovery codes run this low, the notice says to make new ones.
pub const FEW_RECOVERY_CODES: i64 = 3;

/// A security change: recorded in the account's events and mailed to its verified address,
/// both in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub fn record_and_notify(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    kind: EventKind,
    detail: Option<&str>,
    notice: Notice,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    events::record(connection, &account.id, kind, now, origin, detail)?;
    queue_notice(state, connection, account, notice, origin, now)
}

/// Queues `notice` for the account's verified address, if it has one.
pub fn queue_notice(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    notice: Notice,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some(recipient) = account.verified_email() else {
        return Ok(());
    };
    let language = account.language.unwrap_or(Language::English);
    let (topic, lines) = notice_text(language, &account.username, &support_suffix(state), &notice);
    let site = &state.settings.site_name;
    let mut paragraphs = vec![
        lines.join("\n\n"),
        circumstances(language, origin, now, state),
    ];
    // Made here, once the mail is sure to go: no link exists that nobody received.
    let not_me_link = if notice.offers_not_me_link() {
        Some(not_me_links::issue(state, connection, &account.id, now)?)
    } else {
        None
    };
    if let Some(link) = &not_me_link {
        paragraphs.push(not_me_text(language, link));
    }
    paragraphs.push(signature(language, site));
    let text = paragraphs.join("\n\n");
    let body = MailBody {
        html: html_of(&text, not_me_link.as_deref()),
        text,
    };
    queue(
        state,
        connection,
        recipient,
        &subject(&topic, site),
        &body,
        now,
    )
}

/// The paragraph, and the link on its own line, that lets the holder say "this wasn't me".
fn not_me_text(language: Language, link: &str) -> String {
    match language {
        Language::English => format!(
            "If this was not you and you want to stop whoever did it at once, open this link (it works once, for 7 days). Once you confirm on the page it opens, every session and API token of the account ends, every device is forgotten, and signing in with the password is blocked until you reset it through this address.\n\n{link}"
        ),
        Language::Czech => format!(
            "Pokud jste to nebyli vy a chcete toho, kdo to udělal, hned zastavit, otevřete tento odkaz (funguje jednou, 7 dní). Jakmile to na stránce, která se otevře, potvrdíte, skončí všechny relace a API tokeny účtu, všechna zařízení budou zapomenuta a přihlášení heslem bude zablokované, dokud si heslo neobnovíte přes tuto adresu.\n\n{link}"
        ),
    }
}

/// Queues a link mail to `recipient` (for a verification, the new address itself).
pub fn queue_link(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    recipient: &str,
    mail: &LinkMail,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let language = account.language.unwrap_or(Language::English);
    let (topic, text, link) = link_text(language, &account.username, mail);
    let site = &state.settings.site_name;
    let text = format!("{text}\n\n{}", signature(language, site));
    let body = MailBody {
        html: html_of(&text, Some(link)),
        text,
    };
    queue(
        state,
        connection,
        recipient,
        &subject(&topic, site),
        &body,
        now,
    )
}

/// A mail's subject: what happened, then whose mail it is, as the SPA's page titles say it
/// (`Account Settings · Example Hosting`). The separator reads the same in every language.
fn subject(topic: &str, site: &str) -> String {
    format!("{topic} · {site}")
}

/// The last paragraph of every mail: the company signs it.
fn signature(language: Language, site: &str) -> String {
    match language {
        Language::English => format!("Kind regards,\n{site}"),
        Language::Czech => format!("S pozdravem\n{site}"),
    }
}

/// A link mail's subject, text and link, in `language`.
fn link_text<'a>(
    language: Language,
    username: &str,
    mail: &'a LinkMail,
) -> (String, String, &'a str) {
    match (language, mail) {
        (Language::English, LinkMail::VerifyEmail { email, link }) => (
            "Confirm your email address".to_string(),
            format!(
                "Please confirm that {email} is your address: follow this link within 24 hours.\n\n{link}\n\nIf you did not ask for this, ignore this mail."
            ),
            link,
        ),
        (Language::Czech, LinkMail::VerifyEmail { email, link }) => (
            "Potvrďte svou e-mailovou adresu".to_string(),
            format!(
                "Potvrďte prosím, že adresa {email} je vaše: do 24 hodin otevřete tento odkaz.\n\n{link}\n\nPokud jste o to nežádali, tento e-mail ignorujte."
            ),
            link,
        ),
        (Language::English, LinkMail::ResetPassword { link }) => (
            "Reset your password".to_string(),
            format!(
                "Someone asked to reset the password of your account {username}. Follow this link within 30 minutes to choose a new one. It works once.\n\n{link}\n\nIf you did not ask for this, ignore this mail: your password stays as it is."
            ),
            link,
        ),
        (Language::English, LinkMail::TwoFactorDeadline { by, link }) => (
            "Set up two-factor authentication".to_string(),
            format!(
                "Your account {username} must have two-factor authentication by {}. Until then you sign in as today; after that, your password only lets you set it up. It takes a minute: open Account Settings, scan the QR code with an OTP application and type the six-digit code it shows, or add a passkey.\n\n{link}",
                mail_time(*by)
            ),
            link,
        ),
        (Language::Czech, LinkMail::TwoFactorDeadline { by, link }) => (
            "Zapněte si dvoufázové ověření".to_string(),
            format!(
                "Váš účet {username} musí mít do {} zapnuté dvoufázové ověření. Do té doby se přihlašujete jako dosud; potom vám heslo dovolí jen ho nastavit. Zabere to minutu: otevřete Nastavení účtu, naskenujte QR kód aplikací OTP a zadejte šestimístný kód, který ukazuje, nebo přidejte přístupový klíč.\n\n{link}",
                mail_time(*by)
            ),
            link,
        ),
        (Language::Czech, LinkMail::ResetPassword { link }) => (
            "Obnovení hesla".to_string(),
            format!(
                "Někdo požádal o obnovení hesla k vašemu účtu {username}. Nové heslo si zvolíte přes tento odkaz do 30 minut. Odkaz funguje jen jednou.\n\n{link}\n\nPokud jste o to nežádali, tento e-mail ignorujte: vaše heslo zůstává beze změny."
            ),
            link,
        ),
    }
}

fn queue(
    state: &AppState,
    connection: &mut DbConnection,
    recipient: &str,
    subject: &str,
    body: &MailBody,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let id = uuid::Uuid::new_v4().to_string();
    let plaintext = serde_json::to_vec(body)
        .map_err(|error| ServiceError::internal(format!("mail body: {error}")))?;
    let ciphertext = state.secret_box.seal(&plaintext, id.as_bytes())?;
    Ok(outbox::enqueue(
        connection,
        &id,
        recipient,
        subject,
        &ciphertext,
        now,
    )?)
}

/// A notice's subject and paragraphs; `support` is the support contact as [`support_suffix`]
/// gives it.
fn notice_text(
    language: Language,
    username: &str,
    support: &str,
    notice: &Notice,
) -> (String, Vec<String>) {
    use Notice::*;
    // The app's name is in the subject: these two are written whole here.
    match (language, notice) {
        (Language::English, AppAccessGranted { app }) => return (
            format!("{app} can now see your account"),
            vec![format!("You allowed the application \"{app}\" to sign you in with your account {username} and to see what it asked for. It keeps that access until you remove it under \"Apps with access\" in Account Settings.")],
        ),
        (Language::Czech, AppAccessGranted { app }) => return (
            format!("{app} teď vidí váš účet"),
            vec![format!("Aplikaci \"{app}\" jste dovolili přihlašovat vás vaším účtem {username} a vidět, o co požádala. Tento přístup má, dokud ho neodeberete v Nastavení účtu v části \"Aplikace s přístupem\".")],
        ),
        (Language::English, AppAccessRevoked { app }) => return (
            format!("{app} no longer has access"),
            vec![format!("The application \"{app}\" no longer has access to your account {username}: it was removed under \"Apps with access\" in Account Settings, and the application was signed out.")],
        ),
        (Language::Czech, AppAccessRevoked { app }) => return (
            format!("{app} už nemá přístup"),
            vec![format!("Aplikace \"{app}\" už nemá přístup k vašemu účtu {username}: byla odebrána v Nastavení účtu v části \"Aplikace s přístupem\" a aplikace byla odhlášena.")],
        ),
        _ => {}
    }
    let (subject, first) = match (language, notice) {
        (Language::English, TwoFactorEnabled { passkey: None }) => (
            "Two-factor authentication was switched on",
            format!("Two-factor authentication was switched on for your account {username}. Every sign-in now also asks for the six-digit code."),
        ),
        (Language::Czech, TwoFactorEnabled { passkey: None }) => (
            "Dvoufázové ověření bylo zapnuto",
            format!("U vašeho účtu {username} bylo zapnuto dvoufázové ověření. Každé přihlášení teď vyžaduje i šestimístný kód."),
        ),
        (Language::English, TwoFactorEnabled { passkey: Some(name) }) => (
            "Two-factor authentication was switched on",
            format!("Two-factor authentication was switched on for your account {username} with the passkey or security key \"{name}\". Every sign-in with the password now also asks for it, and it can sign in on its own. If this was not you, contact support at once."),
        ),
        (Language::Czech, TwoFactorEnabled { passkey: Some(name) }) => (
            "Dvoufázové ověření bylo zapnuto",
            format!("U vašeho účtu {username} bylo zapnuto dvoufázové ověření přístupovým nebo bezpečnostním klíčem \"{name}\". Každé přihlášení heslem ho teď vyžaduje a klíč vás umí přihlásit i sám. Pokud jste to nebyli vy, hned kontaktujte podporu."),
        ),
        (Language::English, AuthenticatorAppAdded) => (
            "An OTP application was added",
            format!("An OTP application was added to your account {username}: its six-digit codes now sign in beside your passkeys. If this was not you, contact support at once."),
        ),
        (Language::Czech, AuthenticatorAppAdded) => (
            "Byla přidána aplikace OTP",
            format!("K vašemu účtu {username} byla přidána aplikace OTP: její šestimístné kódy teď přihlašují vedle vašich přístupových klíčů. Pokud jste to nebyli vy, hned kontaktujte podporu."),
        ),
        (Language::English, TwoFactorDisabled) => (
            "Two-factor authentication was switched off",
            format!("Two-factor authentication was switched off for your account {username}. Signing in now needs only your password."),
        ),
        (Language::Czech, TwoFactorDisabled) => (
            "Dvoufázové ověření bylo vypnuto",
            format!("U vašeho účtu {username} bylo vypnuto dvoufázové ověření. K přihlášení teď stačí heslo."),
        ),
        (Language::English, TwoFactorResetBySupport) => (
            "Customer support switched off your two-factor authentication",
            format!("Our customer support switched off two-factor authentication for your account {username}, as asked by someone who said they lost their phone. Signing in now needs only your password."),
        ),
        (Language::Czech, TwoFactorResetBySupport) => (
            "Zákaznická podpora vypnula vaše dvoufázové ověření",
            format!("Naše zákaznická podpora vypnula dvoufázové ověření u vašeho účtu {username} na žádost někoho, kdo uvedl, že ztratil telefon. K přihlášení teď stačí heslo."),
        ),
        (Language::English, RecoveryCodeUsed { left }) => (
            "A recovery code was used",
            format!("A recovery code was used for your account {username}. {}", codes_left(language, *left)),
        ),
        (Language::Czech, RecoveryCodeUsed { left }) => (
            "Byl použit záložní kód",
            format!("U vašeho účtu {username} byl použit záložní kód. {}", codes_left(language, *left)),
        ),
        (Language::English, RecoveryCodesRegenerated) => (
            "New recovery codes were created",
            format!("New recovery codes were created for your account {username}; the old ones no longer work."),
        ),
        (Language::Czech, RecoveryCodesRegenerated) => (
            "Byly vytvořeny nové záložní kódy",
            format!("Pro váš účet {username} byly vytvořeny nové záložní kódy; staré už neplatí."),
        ),
        (Language::English, PasswordChanged) => (
            "Your password was changed",
            format!("The password of your account {username} was changed. Other sessions were signed out."),
        ),
        (Language::Czech, PasswordChanged) => (
            "Vaše heslo bylo změněno",
            format!("Heslo k vašemu účtu {username} bylo změněno. Ostatní relace byly ukončeny."),
        ),
        (Language::English, PasswordReset) => (
            "Your password was reset",
            format!("The password of your account {username} was reset with a link sent to this address. Every session was signed out and every trusted device forgotten."),
        ),
        (Language::Czech, PasswordReset) => (
            "Vaše heslo bylo obnoveno",
            format!("Heslo k vašemu účtu {username} bylo obnoveno přes odkaz zaslaný na tuto adresu. Všechny relace byly ukončeny a všechna důvěryhodná zařízení byla zapomenuta."),
        ),
        (Language::English, EmailChangeRequested { new_email }) => (
            "Your email address is being changed",
            format!("Someone asked to change the email address of your account {username} to {new_email}. Mail goes there once the new address is confirmed.\n\nIf this was not you, sign in and change your password, or press \"End all other sessions\" in Account Settings: either cancels the change at once, as does any other change to how you sign in, as long as the new address is not confirmed yet. If you cannot sign in, choose \"Forgot your password?\" on the sign-in page and reset your password with the link sent to this address, or contact our customer support{support}."),
        ),
        (Language::Czech, EmailChangeRequested { new_email }) => (
            "Vaše e-mailová adresa se mění",
            format!("Někdo požádal o změnu e-mailové adresy vašeho účtu {username} na {new_email}. Po potvrzení nové adresy budou e-maily chodit tam.\n\nPokud jste to nebyli vy, přihlaste se a změňte si heslo, nebo v Nastavení účtu stiskněte \"Ukončit všechny ostatní relace\": obojí změnu adresy hned zruší, stejně jako jakákoli jiná změna způsobu přihlašování, dokud nová adresa není potvrzená. Pokud se přihlásit nemůžete, klikněte na přihlašovací stránce na \"Zapomněli jste heslo?\" a obnovte si heslo odkazem, který přijde na tuto adresu, nebo kontaktujte naši zákaznickou podporu{support}."),
        ),
        (Language::English, WrongCodeAfterPassword) => (
            "Someone knows your password",
            format!("Someone signed in to your account {username} with the right password but a wrong six-digit code. If this was not you, your password is known to someone else: change it now."),
        ),
        (Language::English, ApiTokenCreated { name }) => (
            "An API token was created",
            format!("An API token named \"{name}\" was created for your account {username}. Programs holding it can act for the account within its scopes until it expires or is revoked."),
        ),
        (Language::Czech, ApiTokenCreated { name }) => (
            "Byl vytvořen API token",
            format!("Pro váš účet {username} byl vytvořen API token s názvem \"{name}\". Programy, které ho mají, mohou v rámci jeho oprávnění jednat za váš účet, dokud nevyprší nebo ho nezrušíte."),
        ),
        (Language::English, PasskeyAdded { name }) => (
            "A passkey was added",
            format!("A passkey or security key named \"{name}\" was added to your account {username}. It can now be used to sign in, even without the password. If this was not you, remove it in Account Settings at once and contact support."),
        ),
        (Language::Czech, PasskeyAdded { name }) => (
            "Byl přidán přístupový klíč",
            format!("K vašemu účtu {username} byl přidán přístupový nebo bezpečnostní klíč s názvem \"{name}\". Lze se jím nyní přihlásit, i bez hesla. Pokud jste to nebyli vy, hned ho odeberte v Nastavení účtu a kontaktujte podporu."),
        ),
        (Language::English, PasskeyRemoved { name }) => (
            "A passkey was removed",
            format!("The passkey or security key named \"{name}\" was removed from your account {username}. It can no longer be used to sign in, and every other session of the account was signed out."),
        ),
        (Language::Czech, PasskeyRemoved { name }) => (
            "Byl odebrán přístupový klíč",
            format!("Přístupový nebo bezpečnostní klíč s názvem \"{name}\" byl odebrán z vašeho účtu {username}. Už se jím nelze přihlásit a všechny ostatní relace účtu byly ukončeny."),
        ),
        (Language::English, TwoFactorRequiredBySupport { by: Some(by) }) => (
            "Two-factor authentication is now required",
            format!("Our customer support now requires two-factor authentication for your account {username}. Set it up in Account Settings by {}: after that, your password only lets you set it up.", mail_time(*by)),
        ),
        (Language::Czech, TwoFactorRequiredBySupport { by: Some(by) }) => (
            "Dvoufázové ověření je teď povinné",
            format!("Naše zákaznická podpora teď u vašeho účtu {username} vyžaduje dvoufázové ověření. Nastavte si ho v Nastavení účtu do {}: potom vám heslo dovolí jen ho nastavit.", mail_time(*by)),
        ),
        (Language::English, TwoFactorRequiredBySupport { by: None }) => (
            "Two-factor authentication is now required",
            format!("Our customer support now requires two-factor authentication for your account {username}. It is on: keep at least one second factor."),
        ),
        (Language::Czech, TwoFactorRequiredBySupport { by: None }) => (
            "Dvoufázové ověření je teď povinné",
            format!("Naše zákaznická podpora teď u vašeho účtu {username} vyžaduje dvoufázové ověření. Máte ho zapnuté: ponechte si aspoň jeden druhý faktor."),
        ),
        (Language::Czech, WrongCodeAfterPassword) => (
            "Někdo zná vaše heslo",
            format!("Někdo se přihlásil k vašemu účtu {username} správným heslem, ale špatným šestimístným kódem. Pokud jste to nebyli vy, vaše heslo zná někdo další: hned ho změňte."),
        ),
        (Language::English, SignInFromNewDevice) => (
            "New sign-in to your account",
            format!("Someone signed in to your account {username} from a device or browser it was not used on before."),
        ),
        (Language::Czech, SignInFromNewDevice) => (
            "Nové přihlášení k vašemu účtu",
            format!("Někdo se přihlásil k vašemu účtu {username} ze zařízení nebo prohlížeče, ze kterého se k němu dosud nikdo nepřihlásil."),
        ),
        (Language::English, NotMeReported { reset_page }) => (
            "You reported that it was not you",
            format!("You confirmed that something done in your account {username} was not done by you. We signed out every session, revoked every API token, forgot every device and cancelled any email change still waiting for confirmation. Signing in with the password is blocked until you reset it.\n\nWhat to do next: open {reset_page}, enter your username or this address, and reset your password with the link we send here. If your account has two-factor authentication, the reset also asks for your six-digit code, a passkey or a recovery code. Your passkeys still sign in: once signed in, check in Account Settings that you know every passkey, and remove any you do not. If you cannot reset your password, contact our customer support{support}."),
        ),
        (Language::Czech, NotMeReported { reset_page }) => (
            "Nahlásili jste, že jste to nebyli vy",
            format!("Potvrdili jste, že to, co se stalo u vašeho účtu {username}, jste neudělali vy. Ukončili jsme všechny relace, zrušili všechny API tokeny, zapomněli všechna zařízení a zrušili změnu e-mailové adresy, která ještě čekala na potvrzení. Přihlášení heslem je zablokované, dokud si heslo neobnovíte.\n\nCo dál: otevřete {reset_page}, zadejte své uživatelské jméno nebo tuto adresu a obnovte si heslo odkazem, který pošleme sem. Pokud máte zapnuté dvoufázové ověření, obnovení si vyžádá i šestimístný kód, přístupový klíč nebo záložní kód. Přístupovými klíči se přihlásíte i nadále: po přihlášení si v Nastavení účtu zkontrolujte, že všechny znáte, a ty, které neznáte, odeberte. Pokud si heslo obnovit nemůžete, kontaktujte naši zákaznickou podporu{support}."),
        ),
        (Language::English, PasswordSignInUnblockedBySupport) => (
            "Customer support allowed signing in with your password again",
            format!("Our customer support allowed signing in to your account {username} with the password again; it was blocked after a \"This wasn't me\" report. Reset your password now with \"Forgot your password?\" on the sign-in page: whoever did what you reported may know the current one."),
        ),
        (Language::Czech, PasswordSignInUnblockedBySupport) => (
            "Zákaznická podpora znovu povolila přihlášení heslem",
            format!("Naše zákaznická podpora znovu povolila přihlášení k vašemu účtu {username} heslem; bylo zablokované po nahlášení \"Nebyl(a) jsem to já\". Hned si obnovte heslo přes \"Zapomněli jste heslo?\" na přihlašovací stránce: kdo udělal to, co jste nahlásili, může znát to současné."),
        ),
        (_, AppAccessGranted { .. } | AppAccessRevoked { .. }) => {
            unreachable!("written whole above")
        }
    };
    (subject.to_string(), vec![first])
}

/// "N recovery codes are left", with the language's plural forms and a warning when few are.
fn codes_left(language: Language, left: i64) -> String {
    let count = match language {
        Language::English => match left {
            1 => "1 recovery code is left.".to_string(),
            n => format!("{n} recovery codes are left."),
        },
        // Czech: 1, 2-4, and 0 or 5+ take three different forms.
        Language::Czech => match left {
            1 => "Zbývá 1 záložní kód.".to_string(),
            2..=4 => format!("Zbývají {left} záložní kódy."),
            n => format!("Zbývá {n} záložních kódů."),
        },
    };
    if left > FEW_RECOVERY_CODES {
        return count;
    }
    let warning = match language {
        Language::English => "Create new recovery codes in Account Settings soon.",
        Language::Czech => "Brzy si v Nastavení účtu vytvořte nové záložní kódy.",
    };
    format!("{count} {warning}")
}

/// When, from where and with what, and what to do if it was not the holder.
fn circumstances(
    language: Language,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
    state: &AppState,
) -> String {
    let when = mail_time(now);
    let ip = origin.ip.as_deref().unwrap_or("-");
    let browser = origin
        .user_agent
        .as_deref()
        .map(rough_user_agent)
        .filter(|agent| !agent.is_empty())
        .unwrap_or_else(|| "-".to_string());
    let url = &state.settings.public_url;
    footer_text(language, &when, ip, &browser, url, &support_suffix(state))
}

/// A moment as mails write it.
fn mail_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The support contact in parentheses, with a space before, or nothing if none is configured.
fn support_suffix(state: &AppState) -> String {
    state
        .settings
        .support_contact
        .as_deref()
        .map(|contact| format!(" ({contact})"))
        .unwrap_or_default()
}

/// The end of every notice, from the pieces [`circumstances`] gathers.
fn footer_text(
    language: Language,
    when: &str,
    ip: &str,
    browser: &str,
    url: &str,
    support: &str,
) -> String {
    match language {
        Language::English => format!(
            "When: {when}\nIP address: {ip}\nBrowser: {browser}\n\nIf this was not you, sign in at {url}, change your password, and contact our customer support{support}."
        ),
        Language::Czech => format!(
            "Kdy: {when}\nIP adresa: {ip}\nProhlížeč: {browser}\n\nPokud jste to nebyli vy, přihlaste se na {url}, změňte si heslo a kontaktujte naši zákaznickou podporu{support}."
        ),
    }
}

/// Simple HTML for the same text: paragraphs, escaped, with the link made clickable.
fn html_of(text: &str, link: Option<&str>) -> String {
    let paragraphs: String = text
        .split("\n\n")
        .map(|paragraph| {
            let escaped = escape_html(paragraph).replace('\n', "<br>");
            match link {
                Some(link) if paragraph.trim() == link => {
                    let href = escape_html(link);
                    format!("<p><a href=\"{href}\">{href}</a></p>")
                }
                _ => format!("<p>{escaped}</p>"),
            }
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif\">{paragraphs}</body></html>"
    )
}

/// Text made safe inside HTML elements and quoted attributes: the mails' HTML part, and the
/// small pages the server writes itself.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn czech_has_three_plural_forms_for_codes_left_and_a_warning_when_few() {
        assert_eq!(
            codes_left(Language::Czech, 1),
            "Zbývá 1 záložní kód. Brzy si v Nastavení účtu vytvořte nové záložní kódy."
        );
        assert!(codes_left(Language::Czech, 3).starts_with("Zbývají 3 záložní kódy."));
        assert_eq!(codes_left(Language::Czech, 9), "Zbývá 9 záložních kódů.");
        assert_eq!(
            codes_left(Language::English, 9),
            "9 recovery codes are left."
        );
        assert!(codes_left(Language::English, 3).contains("Create new recovery codes"));
    }

    #[test]
    fn subjects_and_signatures_name_the_site() {
        assert_eq!(
            subject("Your password was changed", "Example Hosting"),
            "Your password was changed · Example Hosting"
        );
        for language in Language::ALL {
            let signed = signature(language, "Example Hosting");
            assert!(signed.ends_with("\nExample Hosting"), "{signed}");
        }
    }

    #[test]
    fn the_html_twin_escapes_text_and_links_the_link() {
        let html = html_of(
            "Hi <b>x</b>\n\nhttps://e.example/r?token=a&b",
            Some("https://e.example/r?token=a&b"),
        );
        assert!(html.contains("Hi &lt;b&gt;x&lt;/b&gt;"));
        assert!(html.contains("<a href=\"https://e.example/r?token=a&amp;b\">"));
    }

    #[test]
    fn the_not_me_link_is_a_paragraph_of_its_own_and_clickable() {
        let link = "https://custadmin.example/not-me?token=abc";
        for language in Language::ALL {
            let text = format!("A notice.\n\n{}", not_me_text(language, link));
            assert!(text.ends_with(&format!("\n\n{link}")), "{text}");
            let html = html_of(&text, Some(link));
            assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
        }
    }

    /// The notice to the old address says how to stop a change the holder did not ask for.
    #[test]
    fn the_old_address_hears_how_to_stop_a_change_of_address() {
        let notice = Notice::EmailChangeRequested {
            new_email: "new@example.com".to_string(),
        };
        let support = " (mailto:help@example.com)";
        for (language, steps) in [
            (
                Language::English,
                [
                    "change your password",
                    "\"End all other sessions\" in Account Settings",
                    "cancels the change at once",
                    "\"Forgot your password?\"",
                    "contact our customer support (mailto:help@example.com).",
                ],
            ),
            (
                Language::Czech,
                [
                    "změňte si heslo",
                    "v Nastavení účtu stiskněte \"Ukončit všechny ostatní relace\"",
                    "změnu adresy hned zruší",
                    "\"Zapomněli jste heslo?\"",
                    "kontaktujte naši zákaznickou podporu (mailto:help@example.com).",
                ],
            ),
        ] {
            let (_, lines) = notice_text(language, "alice", support, &notice);
            let text = lines.join("\n\n");
            assert!(text.contains("new@example.com"), "{text}");
            for step in steps {
                assert!(text.contains(step), "{step:?} in {text}");
            }
            // Without a configured contact, no empty parentheses.
            let (_, lines) = notice_text(language, "alice", "", &notice);
            let text = lines.join("\n\n");
            assert!(!text.contains("()") && !text.contains(" ."), "{text}");
        }
    }

    /// The terms of docs/glossary.json, as frontend/src/i18n/glossary.test.ts reads them too.
    #[derive(serde::Deserialize)]
    struct Glossary {
        concepts: Vec<Concept>,
    }

    #[derive(serde::Deserialize)]
    struct Concept {
        concept: String,
        /// Language tag to its usage.
        #[serde(flatten)]
        languages: std::collections::BTreeMap<String, Usage>,
    }

    #[derive(serde::Deserialize)]
    struct Usage {
        term: String,
        #[serde(rename = "match")]
        pattern: String,
        forbidden: Vec<String>,
    }

    fn glossary() -> Glossary {
        serde_json::from_str(include_str!("../../../docs/glossary.json"))
            .expect("docs/glossary.json parses")
    }

    /// The concepts' usage in `language`; every concept must have one.
    fn usages(glossary: &Glossary, language: Language) -> Vec<(&str, &Usage)> {
        glossary
            .concepts
            .iter()
            .map(|concept| {
                let usage = concept.languages.get(language.tag()).unwrap_or_else(|| {
                    panic!(
                        "docs/glossary.json: \"{}\" has no \"{}\" entry",
                        concept.concept,
                        language.tag()
                    )
                });
                (concept.concept.as_str(), usage)
            })
            .collect()
    }

    /// Lower-cased words: cut at every character that is not a letter or a digit (nor, in a
    /// pattern, '*').
    fn words(text: &str, pattern: bool) -> Vec<String> {
        text.to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || (pattern && c == '*')))
            .filter(|word| !word.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether the glossary pattern occurs in `text`: its words one after another, each equal
    /// or, ending in '*', a prefix.
    fn occurs(pattern: &str, text: &str) -> bool {
        let (pattern, text) = (words(pattern, true), words(text, false));
        assert!(!pattern.is_empty(), "an empty glossary pattern");
        text.windows(pattern.len()).any(|window| {
            window
                .iter()
                .zip(&pattern)
                .all(|(word, want)| match want.strip_suffix('*') {
                    Some(stem) => word.starts_with(stem),
                    None => word == want,
                })
        })
    }

    /// Every kind of notice with sample values. The match without a wildcard stops this test
    /// from compiling when a notice is added: give it a sample here.
    fn sample_notices() -> Vec<Notice> {
        use Notice::*;
        let name = || "Blue".to_string();
        let mut samples = vec![
            TwoFactorEnabled { passkey: None },
            TwoFactorEnabled {
                passkey: Some(name()),
            },
            AuthenticatorAppAdded,
            TwoFactorDisabled,
            TwoFactorResetBySupport,
            RecoveryCodesRegenerated,
            PasswordChanged,
            PasswordReset,
            EmailChangeRequested {
                new_email: "new@example.com".to_string(),
            },
            WrongCodeAfterPassword,
            ApiTokenCreated { name: name() },
            PasskeyAdded { name: name() },
            PasskeyRemoved { name: name() },
            TwoFactorRequiredBySupport {
                by: Some(chrono::DateTime::UNIX_EPOCH),
            },
            TwoFactorRequiredBySupport { by: None },
            SignInFromNewDevice,
            NotMeReported {
                reset_page: "https://custadmin.example/forgot-password".to_string(),
            },
            PasswordSignInUnblockedBySupport,
            AppAccessGranted { app: name() },
            AppAccessRevoked { app: name() },
        ];
        // Every count that `codes_left` words differently, with and without the warning.
        samples.extend((0..=FEW_RECOVERY_CODES + 3).map(|left| RecoveryCodeUsed { left }));
        for sample in &samples {
            match sample {
                TwoFactorEnabled { .. }
                | AuthenticatorAppAdded
                | TwoFactorDisabled
                | TwoFactorResetBySupport
                | RecoveryCodeUsed { .. }
                | RecoveryCodesRegenerated
                | PasswordChanged
                | PasswordReset
                | EmailChangeRequested { .. }
                | WrongCodeAfterPassword
                | ApiTokenCreated { .. }
                | PasskeyAdded { .. }
                | PasskeyRemoved { .. }
                | TwoFactorRequiredBySupport { .. }
                | SignInFromNewDevice
                | NotMeReported { .. }
                | PasswordSignInUnblockedBySupport
                | AppAccessGranted { .. }
                | AppAccessRevoked { .. } => {}
            }
        }
        samples
    }

    /// Every link mail with sample values; the match works as in [`sample_notices`].
    fn sample_link_mails() -> Vec<LinkMail> {
        let samples = vec![
            LinkMail::VerifyEmail {
                email: "new@example.com".to_string(),
                link: "https://custadmin.example/verify-email?token=abc".to_string(),
            },
            LinkMail::ResetPassword {
                link: "https://custadmin.example/reset-password?token=abc".to_string(),
            },
            LinkMail::TwoFactorDeadline {
                by: chrono::DateTime::UNIX_EPOCH,
                link: "https://custadmin.example/account".to_string(),
            },
        ];
        for sample in &samples {
            match sample {
                LinkMail::VerifyEmail { .. }
                | LinkMail::ResetPassword { .. }
                | LinkMail::TwoFactorDeadline { .. } => {}
            }
        }
        samples
    }

    /// Every text a mail in `language` can say, each with where it comes from.
    fn every_mail_text(language: Language) -> Vec<(String, String)> {
        let mut texts = Vec::new();
        for support in ["", " (mailto:help@example.com)"] {
            for notice in sample_notices() {
                let (subject, lines) = notice_text(language, "alice", support, &notice);
                texts.push((format!("{notice:?} subject"), subject));
                texts.push((format!("{notice:?}"), lines.join("\n\n")));
            }
            let footer = footer_text(
                language,
                "2025-01-02 03:04 UTC",
                "192.0.2.1",
                "Firefox on Linux",
                "https://custadmin.example",
                support,
            );
            texts.push(("footer of every notice".to_string(), footer));
        }
        texts.push((
            "signature of every mail".to_string(),
            signature(language, "Example Hosting"),
        ));
        let not_me = not_me_text(language, "https://custadmin.example/not-me?token=abc");
        texts.push(("not-me paragraph of every notice".to_string(), not_me));
        for mail in sample_link_mails() {
            let (subject, text, _) = link_text(language, "alice", &mail);
            texts.push((format!("{mail:?} subject"), subject));
            texts.push((format!("{mail:?}"), text));
        }
        // Notices that differ only in their values say the same subject: say each text once.
        let mut seen = std::collections::HashSet::new();
        texts.retain(|(_, text)| seen.insert(text.clone()));
        texts
    }

    #[test]
    fn glossary_patterns_match_words_and_stems() {
        assert!(occurs("záložn* kód*", "Zbývá 9 záložních kódů."));
        assert!(occurs("e mail*", "tento e-mail ignorujte"));
        assert!(!occurs("e mail*", "every mail"));
        assert!(occurs("otp app", "Open the OTP app."));
        assert!(!occurs("otp app", "Open the OTP application."));
        assert!(!occurs("záchrann*", "nezáchranný"));
    }

    #[test]
    fn no_mail_uses_a_synonym_the_glossary_forbids() {
        let glossary = glossary();
        let mut drift = Vec::new();
        for language in Language::ALL {
            let usages = usages(&glossary, language);
            for (origin, text) in every_mail_text(language) {
                for (concept, usage) in &usages {
                    for forbidden in usage.forbidden.iter().filter(|word| occurs(word, &text)) {
                        drift.push(format!(
                            "{} mail {origin}: \"{forbidden}\" for {concept}; say \"{}\"\n    {text}",
                            language.tag(),
                            usage.term
                        ));
                    }
                }
            }
        }
        assert!(
            drift.is_empty(),
            "mails use words docs/glossary.json forbids:\n{}",
            drift.join("\n")
        );
    }

    #[test]
    fn the_mails_use_every_glossary_term() {
        let glossary = glossary();
        for language in Language::ALL {
            let texts = every_mail_text(language);
            for (concept, usage) in usages(&glossary, language) {
                assert!(
                    texts.iter().any(|(_, text)| occurs(&usage.pattern, text)),
                    "no {} mail says \"{}\" ({concept}): fix the mails, or the glossary",
                    language.tag(),
                    usage.term
                );
            }
        }
    }
}
