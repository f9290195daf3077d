fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap();
        for line in postmortem::parse::lines(&data) {
            let mut v = line.to_vec();
            v.push(b'\n');
            let p = postmortem::parse::parse_chunk(&v);
            if p.stats.not_understood > 0 {
                println!("{}", String::from_utf8_lossy(line));
            }
        }
    }
}
