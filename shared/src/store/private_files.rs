//! The embedded store's files hold password hashes, contacts and reset links: they are the
//! owner's alone, whatever the data directory's mode or the process umask.

use std::fs;
use std::io;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

const OWNER_ONLY: u32 = 0o600;

/// Makes `db` (created empty if missing) and its `-wal` companion owner-only before SQLite
/// opens them (and a `-shm` left by versions that shared the WAL index through a file);
/// SQLite gives the companions it creates the database file's mode.
/// Warns when others may list or read the directory.
pub fn prepare(data_dir: &Path, db: &Path) -> io::Result<()> {
    let dir_mode = fs::metadata(data_dir)?.permissions().mode();
    if dir_mode & 0o077 != 0 {
        tracing::warn!(
            dir = %data_dir.display(),
            mode = format!("{:o}", dir_mode & 0o777),
            "the data directory is open to other users; its files are kept owner-only, but consider chmod 700"
        );
    }
    fs::OpenOptions::new().write(true).create(true).truncate(false).mode(OWNER_ONLY).open(db)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = db.with_file_name(format!("{}{suffix}", file_name(db)));
        match fs::set_permissions(&path, fs::Permissions::from_mode(OWNER_ONLY)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::DirBuilderExt as _;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn files_are_owner_only_in_a_directory_others_can_read() {
        let dir =
            std::env::temp_dir().join(format!("gatehouse-modes-{}", crate::secret::random_alphanumeric(8).unwrap()));
        fs::DirBuilder::new().mode(0o755).create(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        // A database left world-readable by an older version is tightened too.
        let db = dir.join("gatehouse.sqlite3");
        fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o644).open(&db).unwrap();
        fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();

        let stores = super::super::embedded::open(&dir, super::super::Retention::default()).unwrap();
        stores.secrets.put("probe", &crate::secret::SecretString::new("x")).await.unwrap();
        assert!(stores.contacts.find_by_username("nobody").await.unwrap().is_none());

        for name in ["gatehouse.sqlite3", "gatehouse.sqlite3-wal", "secrets.json"] {
            let path = dir.join(name);
            assert!(path.exists(), "{name} was not created");
            assert_eq!(mode(&path), 0o600, "{name}");
        }
        // The WAL index is in the process's memory (unix-excl): no file to leak it.
        assert!(!dir.join("gatehouse.sqlite3-shm").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
