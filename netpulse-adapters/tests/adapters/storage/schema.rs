//! Both migration sets must describe the same schema: tables, columns and nullability.

use std::collections::BTreeSet;

use crate::storage::helpers::{pg, sqlite};

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let lite = sqlite().await;
    let Some(pgdb) = pg().await else { return };
    let lite_cols: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT m.name, p.name, p.\"notnull\" = 0 OR p.pk = 0 AND 0 FROM sqlite_master m \
         JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
         AND m.name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(lite.storage.pool())
    .await
    .unwrap();
    let lite: BTreeSet<(String, String, bool)> = lite_cols.into_iter().collect();
    let pg_cols: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, is_nullable = 'YES' FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(pgdb.storage.pool())
    .await
    .unwrap();
    let pg: BTreeSet<(String, String, bool)> = pg_cols.into_iter().collect();
    assert!(!lite.is_empty());
    let only_lite: Vec<_> = lite.difference(&pg).collect();
    let only_pg: Vec<_> = pg.difference(&lite).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_lite:?}\nonly in PostgreSQL: {only_pg:?}"
    );
}
