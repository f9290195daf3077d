//! The clocks the lines were written with, said: lines with a UTC offset
//! beside lines without one can only be put on one clock when the
//! server's zone is known (`--timezone`).

use crate::correlate::Clocks;
use crate::model::Summary;
use crate::time::TimeFormat;

/// Lines written with a UTC offset and lines written without one: put on
/// one clock when `--timezone` names the server's zone, else said. When
/// every line carries the same offset, the report's times carry it too.
pub fn clock_notes(c: &Clocks, fmt: &mut TimeFormat, summary: &mut Summary) {
    let with: u64 = c.offsets.iter().map(|o| o.1).sum();
    if with == 0 {
        return;
    }
    let offsets: Vec<String> = c
        .offsets
        .iter()
        .map(|&(o, _)| crate::time::offset_text(o))
        .collect();
    if let Some(zone) = fmt.zone().map(|_| fmt.zone_name()) {
        if c.local > 0 {
            summary.notes.push(format!(
                "{with} lines carry a UTC offset ({}) and {} do not: the former were put on the clock of {zone} (--timezone), as the latter are read",
                offsets.join(", "),
                c.local
            ));
        }
        return;
    }
    // Two offsets an hour apart are one zone's winter and summer time.
    let one_zone = match c.offsets.as_slice() {
        [_] => true,
        [a, b] => (a.0 - b.0).abs() == 3600,
        _ => false,
    };
    if c.local > 0 || !one_zone {
        summary.problems.push(format!(
            "{with} lines carry a UTC offset ({}){}: without --timezone the clocks could not be aligned, so each time is shown as its line wrote it; give --timezone with the server's zone (e.g. Europe/Berlin) to put them on one clock",
            offsets.join(", "),
            if c.local > 0 {
                format!(" and {} lines do not", c.local)
            } else {
                String::new()
            }
        ));
    } else if let [(o, _)] = c.offsets.as_slice() {
        *fmt = TimeFormat::fixed(*o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clocks(local: u64, offsets: &[(i32, u64)]) -> Clocks {
        Clocks {
            local,
            offsets: offsets.to_vec(),
            converted: 0,
        }
    }

    #[test]
    fn mixed_clocks_are_said_one_offset_is_kept() {
        let mut s = Summary::default();
        let mut fmt = TimeFormat::local();
        clock_notes(&clocks(100, &[(0, 50)]), &mut fmt, &mut s);
        assert!(s.problems[0].contains("50 lines carry a UTC offset (+00:00) and 100 lines do not"));
        assert_eq!(fmt.zone_name(), "local");
        // One offset throughout: the report's times carry it.
        let mut s = Summary::default();
        clock_notes(&clocks(0, &[(3600, 70)]), &mut fmt, &mut s);
        assert!(s.problems.is_empty());
        assert_eq!(fmt.zone_name(), "+01:00");
        // Winter and summer time of one zone: as written, nothing to say.
        let mut s = Summary::default();
        let mut fmt = TimeFormat::local();
        clock_notes(&clocks(0, &[(3600, 70), (7200, 30)]), &mut fmt, &mut s);
        assert!(s.problems.is_empty() && s.notes.is_empty());
        // With the zone named, lines are moved and that is noted.
        let mut s = Summary::default();
        let mut fmt = TimeFormat::with_zone("Europe/Berlin").unwrap();
        clock_notes(&clocks(10, &[(0, 5)]), &mut fmt, &mut s);
        assert!(s.notes[0].contains("put on the clock of Europe/Berlin"));
    }
}
