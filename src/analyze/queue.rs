//! Queue analysis (stub).
