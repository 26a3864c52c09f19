//! The HTTP engine target endpoints (being written).
