//! Engine output parsers (being written).
