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

use crate::classify::Cause;
use crate::{Error, Result};

fn render(out: &mut dyn Write) -> std::io::Result<()> {
    for (i, cause) in Cause::ALL.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}: {}", cause.id(), cause.title())?;
        writeln!(out, "  {}", cause.description())?;
        for step in cause.fix() {
            writeln!(out, "  - {step}")?;
        }
    }
    Ok(())
}

/// Prints the taxonomy to `out`.
pub fn run(out: &mut dyn Write) -> Result<()> {
    render(out).map_err(|e| Error::io("<stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_cause_once_in_order_with_its_fix() {
        let mut out = Vec::new();
        run(&mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        let headers: Vec<&str> = s
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.is_empty())
            .map(|l| l.split(':').next().unwrap())
            .collect();
        let ids: Vec<&str> = Cause::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(headers, ids);
        assert!(s.contains("plesk sbin mchk --without-spam"), "{s}");
        assert!(s.contains("dig @8.8.8.8 MX gmail.com"), "{s}");
        assert!(s.contains("smtp_destination_rate_delay"), "{s}");
        assert!(s.contains("relayhost = [smtp.provider.example]:587"), "{s}");
    }

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
