//! Told about every newly recorded measurement: metrics, notifications and remote write listen
//! to ingest through this port, so ingest knows none of them.

use netpulse_domain::alert::AlertEdge;
use netpulse_domain::model::Measurement;

/// Told about every newly recorded measurement (not about duplicates), after its transaction
/// committed. Implementations must not block: they update in-memory state or hand work to a
/// background task (metrics, notifications, remote write).
pub trait RecordListener: Send + Sync {
    /// A measurement was recorded; `edge` is the alert edge it crossed, claimed in the same
    /// transaction (so exactly one process sees each edge).
    fn recorded(&self, measurement: &Measurement, edge: Option<AlertEdge>);
}
