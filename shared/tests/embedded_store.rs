//! The shared store suite against the embedded backend (SQLite + secrets file).

use std::os::unix::fs::PermissionsExt as _;

use std::sync::Arc;

use gatehouse::clock::SystemClock;
use gatehouse::config::Backend;
use gatehouse::store::{Retention, Stores, suite};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gatehouse-test-{name}-{}", uuid_like()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn uuid_like() -> String {
    gatehouse::secret::random_alphanumeric(12).unwrap()
}

#[tokio::test]
async fn embedded_backend_passes_the_store_suite() {
    for (name, check) in suite::ALL {
        let dir = temp_dir(name);
        let stores = Stores::open(&Backend::Embedded { data_dir: dir.clone() }, Retention::default()).await.unwrap();
        // As the server opens them: secrets kept per process.
        check(&stores.with_secret_cache(Arc::new(SystemClock))).await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn secrets_file_is_private_and_survives_reopening() {
    let dir = temp_dir("reopen");
    let backend = Backend::Embedded { data_dir: dir.clone() };
    let stores = Stores::open(&backend, Retention::default()).await.unwrap();
    stores.secrets.put("k", &gatehouse::secret::SecretString::new("v")).await.unwrap();
    drop(stores);
    let mode = std::fs::metadata(dir.join("secrets.json")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let reopened = Stores::open(&backend, Retention::default()).await.unwrap();
    assert_eq!(reopened.secrets.get("k").await.unwrap().unwrap().expose(), "v");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn expired_rows_go_in_bounded_batches_and_live_ones_stay() {
    use gatehouse::grants::{FamilyId, GrantClient, Issuance, Spend, TokenGrant};
    use gatehouse::store::GrantStore as _;
    use gatehouse::store::embedded::{Database, maintenance};
    use time::{Duration, macros::datetime};

    let dir = temp_dir("sweep");
    let db = Database::open(&dir, Retention::default()).unwrap();
    let t0 = datetime!(2026-01-01 12:00 UTC);
    let grant = |expires_at| TokenGrant {
        client_id: GrantClient::Admin,
        contact_id: gatehouse::contact::ContactId::new_random(),
        scope: gatehouse::scope::Scopes::parse("openid offline_access"),
        family: FamilyId::generate().unwrap(),
        auth_time: t0,
        expires_at,
        public_client: false,
        credential: Default::default(),
        sid: None,
        method: Default::default(),
    };
    assert_eq!(maintenance::sweep(&db, 256).unwrap(), 0, "before any request there is no `now` to sweep by");
    let expired = 600;
    for _ in 0..expired {
        let token = gatehouse::secret::OpaqueToken::generate().unwrap().digest();
        let expired = grant(t0);
        let issuance =
            Issuance { spends: Spend::Nothing, access_token: (&token, &expired), refresh_token: None, session: None };
        db.store_issuance(&issuance, t0).await.unwrap();
    }
    let live = gatehouse::secret::OpaqueToken::generate().unwrap().digest();
    let (live_grant, access) =
        (grant(t0 + Duration::days(30)), gatehouse::secret::OpaqueToken::generate().unwrap().digest());
    let issuance = Issuance {
        spends: Spend::Nothing,
        access_token: (&access, &live_grant),
        refresh_token: Some((&live, &live_grant)),
        session: None,
    };
    // A request two hours later: the expired tokens are past the hour spent items are kept.
    let later = t0 + Duration::hours(2);
    db.store_issuance(&issuance, later).await.unwrap();
    assert!(db.get_refresh_token(&live, later).await.unwrap().is_some());
    let batches: Vec<usize> =
        std::iter::from_fn(|| Some(maintenance::sweep(&db, 256).unwrap())).take_while(|removed| *removed > 0).collect();
    assert_eq!(batches, [256, 256, 88], "each call removes at most one batch");
    assert!(db.get_refresh_token(&live, later).await.unwrap().is_some(), "the live token stays");
    std::fs::remove_dir_all(&dir).unwrap();
}
