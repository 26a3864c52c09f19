//! Fresh databases for tests (feature `test-support`): a SQLite file in a temporary directory,
//! or a new database on the PostgreSQL server named by `NETPULSE_TEST_PG_URL`, dropped again
//! when the value is dropped.
//!
//! The PostgreSQL half never skips silently: without `NETPULSE_TEST_PG_URL` it panics, unless
//! the variable is `off` (then [`TestDatabase::postgres`] returns `None` and says so on stderr).
//! An unreachable server always fails.

use std::path::PathBuf;

use sqlx::Connection as _;

/// A database that exists for the lifetime of the value.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to open it with.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{nanos}_{n}", std::process::id())
}

/// The PostgreSQL server URL from `NETPULSE_TEST_PG_URL` (see the module docs).
pub fn postgres_server_url() -> Option<String> {
    match std::env::var("NETPULSE_TEST_PG_URL") {
        Ok(u) if u == "off" => {
            eprintln!("NETPULSE_TEST_PG_URL=off: the PostgreSQL half of this test is not run");
            None
        }
        Ok(u) if !u.is_empty() => Some(u),
        _ => panic!(
            "NETPULSE_TEST_PG_URL is not set: point it at a PostgreSQL server \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres), or set it to `off` to leave PostgreSQL out"
        ),
    }
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

impl TestDatabase {
    /// A SQLite database in a new temporary directory.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("netpulse-test-{}", unique()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        Self {
            url: format!("sqlite://{}", dir.join("netpulse.db").display()),
            cleanup: Cleanup::Directory(dir),
        }
    }

    /// A new, empty PostgreSQL database (see the module docs for when this is `None`).
    pub async fn postgres() -> Option<Self> {
        let admin_url = postgres_server_url()?;
        let name = format!("netpulse_test_{}", unique());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("NETPULSE_TEST_PG_URL is set but PostgreSQL is unreachable: {e}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        Some(Self {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop cannot await: use a short-lived runtime on its own thread.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut admin)
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
