//! `postmortem explain` (stub).
pub fn run(_c: &crate::classify::Classifier, _t: &str, _o: &mut dyn std::io::Write) -> crate::Result<()> { Ok(()) }
