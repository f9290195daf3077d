#[test]
fn dbg_lab() {
    let log = std::fs::read("/tmp/lab1.log").unwrap();
    let c = postmortem::classify::Classifier::builtin();
    let mut cor = postmortem::correlate::Correlator::new(&c, postmortem::correlate::YearPolicy { forced: Some(2026), anchor: None });
    let mut last = 0;
    for (i, line) in postmortem::parse::lines(&log).enumerate() {
        let mut v = line.to_vec(); v.push(b'\n');
        let p = postmortem::parse::parse_chunk(&v);
        cor.consume(0, 1, &v, &p.events);
        let r = cor.findings.counts.received;
        if r > last + 1 || (r == last + 1 && !(line.windows(7).any(|w| w == b"client=") || line.windows(7).any(|w| w==b"pickup["))) { eprintln!("jump at {i}: {}", String::from_utf8_lossy(line)); }
        if r == last && line.windows(10).any(|w| w == b"queued as ") && line.windows(6).any(|w| w==b":10024") { eprintln!("no decrement {i}: {}", String::from_utf8_lossy(line)); }
        last = r;
    }
    eprintln!("received {}", cor.findings.counts.received);
}
