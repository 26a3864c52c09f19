//! Fresh identifiers.

/// A new random UUID (v7: time-ordered, so ids created together sort together).
pub fn new_uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}
