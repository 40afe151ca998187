//! The shared store suite against the embedded backend (SQLite + secrets file).

use std::os::unix::fs::PermissionsExt as _;

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
        check(&stores).await;
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
