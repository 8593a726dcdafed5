//! Sending mail with lettre: through an SMTP relay, or, with no relay configured, as `.eml`
//! files under `<data dir>/mail/` (so `./scripts/run` works without a mail server).

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// A mail ready to send: plain text and its simple HTML twin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailBody {
    pub text: String,
    pub html: String,
}

/// Why a mail did not go out.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: the relay is down, busy or answered 4xx.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Never deliverable as it is: a 5xx answer or a malformed address.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files {
        transport: AsyncFileTransport<Tokio1Executor>,
        folder: PathBuf,
    },
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        match &settings.smtp_url {
            Some(url) => {
                if url.0.starts_with("smtp://") && !url.0.contains("tls=required") {
                    let local = ["@localhost", "://localhost", "@127.", "://127.", "[::1]"]
                        .iter()
                        .any(|marker| url.0.contains(marker));
                    if !local {
                        tracing::warn!("CUSTADMIN_SMTP_URL sends mail without TLS to a remote relay; links in mails can be read on the way (use ?tls=required or smtps://)");
                    }
                }
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)
                    .map(|builder| Self::Smtp(builder.build()))
                    .map_err(|error| format!("CUSTADMIN_SMTP_URL: {error}"))
            }
            None => {
                let folder = settings.data_dir.join("mail");
                // Owner-only: the files hold live single-use links.
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&folder)
                    .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
                Ok(Self::Files {
                    transport: AsyncFileTransport::new(&folder),
                    folder,
                })
            }
        }
    }

    /// Sends one mail; answers where it went, for the log (never its content).
    pub async fn send(
        &self,
        from: &Mailbox,
        to: &str,
        subject: &str,
        body: &MailBody,
    ) -> Result<String, SendError> {
        let message = build_message(from, to, subject, body)?;
        match self {
            Self::Smtp(transport) => match transport.send(message).await {
                Ok(response) => Ok(format!("smtp {}", response.code())),
                Err(error) if error.is_permanent() => Err(SendError::Permanent(error.to_string())),
                Err(error) => Err(SendError::Temporary(error.to_string())),
            },
            Self::Files { transport, folder } => transport
                .send(message)
                .await
                .map(|id| folder.join(format!("{id}.eml")).display().to_string())
                .map_err(|error| SendError::Temporary(error.to_string())),
        }
    }
}

fn build_message(
    from: &Mailbox,
    to: &str,
    subject: &str,
    body: &MailBody,
) -> Result<Message, SendError> {
    let to: Mailbox = to
        .parse()
        .map_err(|error| SendError::Permanent(format!("recipient: {error}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(body.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(body.html.clone()),
                ),
        )
        .map_err(|error| SendError::Permanent(error.to_string()))
}
