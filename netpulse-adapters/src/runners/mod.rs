//! Speed-test runners (being written).
