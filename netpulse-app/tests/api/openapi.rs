//! `openapi/openapi.json` must equal the document the server serves. Regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p netpulse-app --test api openapi`.

#[tokio::test]
async fn openapi_document_is_current() {
    let t = crate::helpers::spawn(crate::helpers::Db::Sqlite)
        .await
        .unwrap();
    let served = t
        .client
        .get(t.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, netpulse_app::startup::openapi_json(&t.app));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let document = format!("{served}\n");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &document).unwrap();
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == document,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p netpulse-app --test api openapi`"
    );
    // The interactive viewer is served too.
    let docs = t.client.get(t.url("/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}
