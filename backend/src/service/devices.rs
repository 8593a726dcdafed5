//! Known devices as the holder sees them: list, and forget one (its trust goes with it, and
//! so do the sessions that trust opened).

use super::credential_change::{end_device_trust, Devices};
use super::error::{Refusal, ServiceError};
use super::{AppState, Principal};
use crate::db::devices::{self, DeviceListing};
use crate::db::events::{self, EventKind};
use crate::db::sessions as session_store;
use crate::domain::RequestOrigin;

/// The caller's known devices, with the one the caller's session came from marked.
pub async fn list(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<(DeviceListing, bool)>, ServiceError> {
    let (account_id, session_id) = (principal.account_id.clone(), principal.session_id.clone());
    state
        .database
        .run(move |connection| {
            let current =
                session_store::find(connection, &session_id)?.and_then(|session| session.device_id);
            Ok(devices::list_for_account(connection, &account_id)?
                .into_iter()
                .map(|device| {
                    let is_current = current.as_deref() == Some(device.id.as_str());
                    (device, is_current)
                })
                .collect())
        })
        .await
}

/// Forgets one of the caller's devices: it is a stranger again (and trusted no longer).
pub async fn forget(
    state: &AppState,
    principal: &Principal,
    device_id: &str,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let (account_id, device_id, origin) = (
        principal.account_id.clone(),
        device_id.to_string(),
        origin.clone(),
    );
    let session_id = principal.session_id.clone();
    state
        .database
        .transaction(move |connection| {
            // Its trust ends first, with every session that trust opened (but the caller's).
            end_device_trust(
                connection,
                &account_id,
                Devices::One(&device_id),
                Some(&session_id),
                now,
            )?;
            if !devices::delete_of_account(connection, &account_id, &device_id)? {
                return Err(Refusal::NotFound.into());
            }
            Ok(events::record(
                connection,
                &account_id,
                EventKind::DeviceForgotten,
                now,
                &origin,
                Some(&format!("device {device_id}")),
            )?)
        })
        .await
}
