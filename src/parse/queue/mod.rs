//! Queue dump parsers (stub).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpKind {
    Text,
    Json,
}
pub fn detect(_bytes: &[u8]) -> Option<DumpKind> {
    None
}
