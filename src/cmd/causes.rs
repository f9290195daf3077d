//! `postmortem causes`: the taxonomy, with what each cause means and its fix.
//!
//! ```text
//! postmortem causes
//! ```
//!
//! Lists every cause id a report can show (the `cause` column of the CSVs,
//! the keys of `summary.json`), in the order of the design: the four that
//! stop most queues first, `unknown` last. For each: its title, what it
//! means, and the remediation steps the report suggests.

use std::io::Write;

use crate::report::explain::render_causes;
use crate::{Error, Result};

/// Prints the taxonomy to `out`.
pub fn run(out: &mut dyn Write) -> Result<()> {
    out.write_all(render_causes().as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_errors_become_typed_errors() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert!(matches!(run(&mut Broken), Err(Error::Io { .. })));
    }
}
