//! Output: lines are written to rotated segments, gzipped in a second
//! thread, and renamed to Debian's rotation names at the end.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use super::clock::{iso, syslog_stamp, DAY, EPOCH_DAYS, SEC};
use super::world::HOST;

enum Chunk {
    Data(Vec<u8>),
    Segment(PathBuf),
}

pub(super) struct Sink {
    tx: Option<mpsc::SyncSender<Chunk>>,
    worker: Option<thread::JoinHandle<io::Result<()>>>,
    buf: Vec<u8>,
    dir: PathBuf,
    segments: Vec<SegInfo>,
    next_rotation: i64,
    max_lines: u64,
    stamp_sec: i64,
    stamp: String,
}

#[derive(Debug, Clone)]
pub(super) struct SegInfo {
    tmp: PathBuf,
    lines: u64,
    first: i64,
    last: i64,
}

impl Sink {
    pub(super) fn new(dir: &Path, level: u32, max_lines: u64, first_rotation: i64) -> Sink {
        let (tx, rx) = mpsc::sync_channel::<Chunk>(8);
        let worker = thread::spawn(move || -> io::Result<()> {
            let mut enc: Option<GzEncoder<BufWriter<File>>> = None;
            for c in rx {
                match c {
                    Chunk::Segment(p) => {
                        if let Some(e) = enc.take() {
                            e.finish()?.flush()?;
                        }
                        let f = BufWriter::with_capacity(1 << 20, File::create(&p)?);
                        enc = Some(GzEncoder::new(f, Compression::new(level)));
                    }
                    Chunk::Data(d) => {
                        if let Some(e) = enc.as_mut() {
                            e.write_all(&d)?;
                        }
                    }
                }
            }
            if let Some(e) = enc.take() {
                e.finish()?.flush()?;
            }
            Ok(())
        });
        Sink {
            tx: Some(tx),
            worker: Some(worker),
            buf: Vec::with_capacity(1 << 21),
            dir: dir.to_path_buf(),
            segments: Vec::new(),
            next_rotation: first_rotation,
            max_lines,
            stamp_sec: i64::MIN,
            stamp: String::new(),
        }
    }

    /// A stand-in left behind when the real sink is finished.
    pub(super) fn closed() -> Sink {
        Sink {
            tx: None,
            worker: None,
            buf: Vec::new(),
            dir: PathBuf::new(),
            segments: Vec::new(),
            next_rotation: 0,
            max_lines: 0,
            stamp_sec: 0,
            stamp: String::new(),
        }
    }

    fn send(&mut self, c: Chunk) -> io::Result<()> {
        let tx = self.tx.as_ref().expect("sink open");
        tx.send(c)
            .map_err(|_| io::Error::other("gzip writer thread stopped"))
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let d = std::mem::replace(&mut self.buf, Vec::with_capacity(1 << 21));
            self.send(Chunk::Data(d))?;
        }
        Ok(())
    }

    fn new_segment(&mut self, t: i64) -> io::Result<()> {
        self.flush_buf()?;
        let p = self.dir.join(format!(".seg-{:05}.gz", self.segments.len()));
        self.segments.push(SegInfo {
            tmp: p.clone(),
            lines: 0,
            first: t,
            last: t,
        });
        self.send(Chunk::Segment(p))
    }

    /// Starts a line at time `t`: rotates if due and writes the syslog
    /// header; the caller appends the message text and a newline.
    pub(super) fn begin(&mut self, t: i64, prog: &str, pid: u32) -> io::Result<&mut Vec<u8>> {
        let rotate_now = match self.segments.last() {
            None => true,
            Some(s) => t >= self.next_rotation || s.lines >= self.max_lines,
        };
        if rotate_now {
            while t >= self.next_rotation {
                self.next_rotation += DAY;
            }
            self.new_segment(t)?;
        }
        let s = self.segments.last_mut().expect("segment");
        s.lines += 1;
        s.last = t;
        let sec = t.div_euclid(SEC);
        if sec != self.stamp_sec {
            self.stamp_sec = sec;
            self.stamp = syslog_stamp(t);
        }
        self.buf.extend_from_slice(self.stamp.as_bytes());
        self.buf.push(b' ');
        self.buf.extend_from_slice(HOST.as_bytes());
        self.buf.push(b' ');
        self.buf.extend_from_slice(prog.as_bytes());
        if pid != 0 {
            let _ = write!(self.buf, "[{pid}]");
        }
        self.buf.extend_from_slice(b": ");
        if self.buf.len() > (1 << 21) {
            self.flush_buf()?;
        }
        Ok(&mut self.buf)
    }

    pub(super) fn finish(mut self) -> io::Result<Vec<SegInfo>> {
        self.flush_buf()?;
        drop(self.tx.take());
        if let Some(w) = self.worker.take() {
            w.join()
                .map_err(|_| io::Error::other("gzip writer thread panicked"))??;
        }
        Ok(self.segments)
    }
}

/// Renames the segments oldest first to Debian's names: the newest plain
/// `mail.log`, the one before plain `mail.log.1`, older ones gzipped with
/// the highest number oldest.
pub(super) fn name_files(out: &Path, segs: &[SegInfo]) -> io::Result<Vec<Value>> {
    let n = segs.len();
    let mut files = Vec::new();
    for (k, s) in segs.iter().enumerate() {
        let age = n - 1 - k;
        let (name, plain) = match age {
            0 => ("mail.log".to_string(), true),
            1 => ("mail.log.1".to_string(), true),
            a => (format!("mail.log.{a}.gz"), false),
        };
        let dest = out.join(&name);
        if plain {
            let mut dec =
                flate2::read::MultiGzDecoder::new(io::BufReader::new(File::open(&s.tmp)?));
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&dest)?);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let r = dec.read(&mut buf)?;
                if r == 0 {
                    break;
                }
                w.write_all(&buf[..r])?;
            }
            w.flush()?;
            std::fs::remove_file(&s.tmp)?;
        } else {
            std::fs::rename(&s.tmp, &dest)?;
        }
        // mtime = the last line, as if the server's clock were UTC: what
        // year inference from modification times would see.
        let secs = (EPOCH_DAYS * 86400 + s.last / 1000) as u64;
        let f = File::options().write(true).open(&dest)?;
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))?;
        files.push(json!({
            "name": name,
            "compressed": !plain,
            "lines": s.lines,
            "first": iso(s.first),
            "last": iso(s.last),
        }));
    }
    Ok(files)
}
