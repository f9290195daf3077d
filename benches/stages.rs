//! Per-stage throughput: header parse, payload parse, classification,
//! correlation and aggregation, in bytes/s and lines/s.
//!
//! Input: the lab-1 recording (tests/fixtures/lab-1/logs, real Postfix
//! 3.7 output) repeated to about 20 MB, else the shipped samples.
//!
//!     cargo bench --bench stages

use std::io::Read;
use std::path::Path;
use std::sync::LazyLock;

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use postmortem::classify::Classifier;
use postmortem::correlate::{Correlator, Findings, YearPolicy};
use postmortem::parse;

fn main() {
    divan::main();
}

fn read_logs(dir: &Path) -> Vec<u8> {
    let mut names: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(_) => return Vec::new(),
    };
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let _ = flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out);
        } else if p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("log"))
        {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// About 20 MB of real lines.
static INPUT: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut one = read_logs(&root.join("tests/fixtures/lab-1/logs"));
    if one.is_empty() {
        one = read_logs(&root.join("samples"));
    }
    let mut all = Vec::with_capacity(21 << 20);
    while !one.is_empty() && all.len() < 20 << 20 {
        all.extend_from_slice(&one);
    }
    all
});

static LINES: LazyLock<usize> = LazyLock::new(|| parse::lines(&INPUT).count());

/// The reason texts of deferrals and bounces, for the classifier.
static REASONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    parse::lines(&INPUT)
        .filter_map(|l| {
            let s = String::from_utf8_lossy(l);
            let p = s
                .find("status=deferred (")
                .or_else(|| s.find("status=bounced ("))?;
            let open = s[p..].find('(')? + p + 1;
            Some(s[open..s.len().saturating_sub(1)].to_string())
        })
        .take(50_000)
        .collect()
});

#[divan::bench]
fn header(b: Bencher) {
    b.counter(BytesCount::new(INPUT.len()))
        .counter(ItemsCount::new(*LINES))
        .bench(|| {
            let mut n = 0usize;
            for line in parse::lines(&INPUT) {
                n += usize::from(parse::syslog::parse_header(line).is_some());
            }
            n
        });
}

/// The same bytes gzipped (level 6, as logrotate writes them).
static GZIPPED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&INPUT).unwrap();
    e.finish().unwrap()
});

/// The tool's gzip reader, counted in decompressed bytes, with and
/// without the evidence pass's checkpoints; flate2 (zlib-rs) beside it as
/// the floor of a well-tuned inflate.
#[divan::bench(args = [false, true])]
fn gunzip(b: Bencher, checkpoints: bool) {
    b.counter(BytesCount::new(INPUT.len())).bench(|| {
        let gz = &GZIPPED[..];
        let mut r = if checkpoints {
            postmortem::input::gzip::GzReader::indexed(gz)
        } else {
            postmortem::input::gzip::GzReader::new(gz)
        };
        let mut buf = vec![0u8; 1 << 20];
        let mut n = 0;
        while let Ok(k @ 1..) = r.read(&mut buf) {
            n += k;
        }
        n
    });
}

#[divan::bench]
fn gunzip_flate2(b: Bencher) {
    b.counter(BytesCount::new(INPUT.len())).bench(|| {
        let mut r = flate2::read::MultiGzDecoder::new(&GZIPPED[..]);
        let mut buf = vec![0u8; 1 << 20];
        let mut n = 0;
        while let Ok(k @ 1..) = r.read(&mut buf) {
            n += k;
        }
        n
    });
}

#[divan::bench]
fn parse_chunk(b: Bencher) {
    b.counter(BytesCount::new(INPUT.len()))
        .counter(ItemsCount::new(*LINES))
        .bench(|| parse::parse_chunk(&INPUT).events.len());
}

#[divan::bench]
fn classify(b: Bencher) {
    let c = Classifier::builtin();
    b.counter(ItemsCount::new(REASONS.len())).bench(|| {
        REASONS
            .iter()
            .filter(|r| c.classify(r).cause.id() != "unknown")
            .count()
    });
}

/// The same texts as the pipeline classifies them: through the per-thread
/// cache keyed by each text's shape (the regexes run once per shape).
#[divan::bench]
fn classify_cached(b: Bencher) {
    let c = Classifier::builtin();
    b.counter(ItemsCount::new(REASONS.len())).bench(|| {
        REASONS
            .iter()
            .filter(|r| {
                postmortem::correlate::cached_verdict(r.as_bytes(), &c)
                    .verdict
                    .verdict
                    .cause
                    .id()
                    != "unknown"
            })
            .count()
    });
}

/// The lab lines through the correlator: the findings the analysis reads.
fn correlate_all(c: &Classifier, parsed: &parse::ParsedChunk) -> Findings {
    let mut cor = Correlator::new(
        c,
        YearPolicy {
            forced: Some(2026),
            anchor: None,
        },
    );
    cor.consume(0, 1, &INPUT, &parsed.events);
    cor.finish()
}

#[divan::bench]
fn correlate(b: Bencher) {
    let c = Classifier::builtin();
    let parsed = parse::parse_chunk(&INPUT);
    b.counter(BytesCount::new(INPUT.len()))
        .counter(ItemsCount::new(*LINES))
        .bench(|| correlate_all(&c, &parsed).counts.received);
}

#[divan::bench]
fn aggregate(b: Bencher) {
    let c = Classifier::builtin();
    let parsed = parse::parse_chunk(&INPUT);
    let outcomes = correlate_all(&c, &parsed).outcomes.len();
    b.counter(ItemsCount::new(outcomes))
        .with_inputs(|| correlate_all(&c, &parsed))
        .bench_local_values(|mut f| {
            let mut s = postmortem::model::Summary::default();
            postmortem::analyze::summarize(&mut f, &Default::default(), &mut s);
            s.timeline.rows.len()
        });
}
