//! Re-deriving stored results' figures from their raw output with the current parsers, so a
//! parser fix repairs history. Verdicts recorded at ingest are kept.

use netpulse_adapters::parse;

use super::App;
use crate::error::AppError;

/// How many results a reparse looked at and changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reparsed {
    /// Results examined.
    pub examined: u64,
    /// Results whose figures changed.
    pub changed: u64,
}

/// Walks every stored result in batches of 500 and replaces its figures where the current
/// parsers read its raw output differently.
pub async fn reparse_all(app: &App) -> Result<Reparsed, AppError> {
    let mut counts = Reparsed::default();
    let mut after = None;
    loop {
        let batch = app.storage.raw_outputs(after.as_ref(), 500).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id.clone());
        for raw in &batch {
            counts.examined += 1;
            let fresh = parse::parse(raw.engine, &raw.raw);
            let stored = app.storage.measurement(&raw.id).await?;
            if stored.is_some_and(|m| m.observation != fresh) {
                app.storage.replace_observation(&raw.id, &fresh).await?;
                counts.changed += 1;
            }
        }
    }
    Ok(counts)
}
