//! Upkeep of the secret store: client credentials left without a registration.

use time::{Duration, OffsetDateTime};

use crate::registration::ClientId;
use crate::store::{SecretEntry, StoreResult, Stores};

/// How long a credential may exist without its registration before it counts as orphaned:
/// creating a registration writes the credential first and the record a moment later.
pub const ORPHAN_GRACE: Duration = Duration::minutes(10);

/// When a sweep runs, which decides what an entry of unknown age may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepMoment {
    /// Before this process serves anything: on the embedded backend nothing else writes.
    StartUp,
    /// While other requests may be creating registrations.
    Running,
}

/// Deletes client credentials whose registration does not exist (a crash between writing the
/// credential and the record, or a deletion whose credential could not be deleted); returns
/// how many went. Credentials younger than [`ORPHAN_GRACE`] are left alone, and so are those
/// of unknown age unless the sweep runs at start-up.
pub async fn sweep_orphan_client_secrets(
    stores: &Stores,
    now: OffsetDateTime,
    moment: SweepMoment,
) -> StoreResult<usize> {
    let mut swept = 0;
    for SecretEntry { name, created_at } in stores.secrets.list(CLIENT_PREFIX).await? {
        let Some(client_id) = name.strip_prefix(CLIENT_PREFIX).and_then(ClientId::parse) else {
            continue;
        };
        let old_enough = match created_at {
            Some(at) => now - at >= ORPHAN_GRACE,
            None => moment == SweepMoment::StartUp,
        };
        if old_enough && stores.registrations.get(client_id).await?.is_none() {
            stores.secrets.delete(&name).await?;
            tracing::info!(%client_id, "orphaned client credentials deleted");
            swept += 1;
        }
    }
    Ok(swept)
}

const CLIENT_PREFIX: &str = "client/";
