//! `postmortem queue` (stub).
