//! Mapped files that shrink while they are read.
//!
//! Reading a page of a mapping past the end of its file raises SIGBUS, which
//! kills the process: someone truncating an old rotation by hand (or a
//! second `cp` over it) during a run would take the whole analysis down.
//! Every mapping the reader makes is registered here; a SIGBUS inside a
//! registered range puts a page of zeros in place of the lost one (the
//! faulting read then completes and sees zeros, which the parser skips) and
//! marks the mapping as cut, so the run reports the file as partial. A SIGBUS
//! anywhere else goes to the handler that was there before (Rust's own, or
//! the default action), so nothing else changes.
//!
//! The handler only does async-signal-safe work: atomic loads and stores and
//! one `mmap(2)` call.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

/// Mappings registered at once; the reader holds a few at a time (the
/// blocks in flight), so running out only means the rest are read, not
/// mapped.
const SLOTS: usize = 32;

struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    /// The lowest address that faulted (`usize::MAX`: none).
    fault: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    fault: AtomicUsize::new(usize::MAX),
};
static SLOTS_IN_USE: [Slot; SLOTS] = [FREE; SLOTS];
/// Serialises taking and freeing slots (never touched by the handler).
static TAKE: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// The handler that was installed before ours, called for faults that are
/// not in a registered mapping.
static mut PREVIOUS: Option<libc::sigaction> = None;

/// A registered mapping; unregistered on drop (drop it before unmapping).
#[derive(Debug)]
pub struct Guard {
    slot: usize,
}

impl Guard {
    /// Registers `[start, start + len)`; `None` when the handler could not
    /// be installed or every slot is taken (then do not map: read).
    pub fn register(start: *const u8, len: usize) -> Option<Guard> {
        install();
        if !INSTALLED.load(Ordering::Acquire) || len == 0 {
            return None;
        }
        let _lock = TAKE.lock().unwrap_or_else(|p| p.into_inner());
        let slot = SLOTS_IN_USE
            .iter()
            .position(|s| s.start.load(Ordering::Acquire) == 0)?;
        let s = &SLOTS_IN_USE[slot];
        s.fault.store(usize::MAX, Ordering::Release);
        s.end.store(start as usize + len, Ordering::Release);
        s.start.store(start as usize, Ordering::Release);
        Some(Guard { slot })
    }

    /// The offset into the mapping of the first page found missing, when
    /// the file shrank under us.
    pub fn cut_at(&self) -> Option<usize> {
        let s = &SLOTS_IN_USE[self.slot];
        let fault = s.fault.load(Ordering::Acquire);
        (fault != usize::MAX).then(|| fault.saturating_sub(s.start.load(Ordering::Acquire)))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _lock = TAKE.lock().unwrap_or_else(|p| p.into_inner());
        let s = &SLOTS_IN_USE[self.slot];
        s.start.store(0, Ordering::Release);
        s.end.store(0, Ordering::Release);
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf and sigaction are called with valid arguments;
        // PREVIOUS is written once, here, before the handler that reads it
        // is installed (the Once orders the two).
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut old: libc::sigaction = std::mem::zeroed();
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_sigbus as *const () as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                return;
            }
            *std::ptr::addr_of_mut!(PREVIOUS) = Some(old);
            if libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for s in &SLOTS_IN_USE {
        let start = s.start.load(Ordering::Acquire);
        if start == 0 || addr < start || addr >= s.end.load(Ordering::Acquire) {
            continue;
        }
        let at = addr & !(page - 1);
        // SAFETY: the page lies inside a read-only mapping this process
        // made and still holds (the slot is registered); replacing it with
        // an anonymous zero page changes only what that mapping reads.
        let p = unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED {
            s.fault.fetch_min(addr, Ordering::AcqRel);
            return;
        }
    }
    // SAFETY: PREVIOUS was set before this handler was installed and is
    // never written again; calling the previous handler with the same
    // arguments, or restoring it so the faulting access re-raises, is what
    // the signal would have done without us.
    unsafe {
        match *std::ptr::addr_of!(PREVIOUS) {
            Some(old) if old.sa_flags & libc::SA_SIGINFO != 0 && old.sa_sigaction > 1 => {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(old.sa_sigaction);
                f(sig, info, ctx);
            }
            Some(old) if old.sa_sigaction > 1 => {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(old.sa_sigaction);
                f(sig);
            }
            _ => {
                // The default action: put it back and let the access fault
                // again.
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cut_while_mapped_reads_as_zeros_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log.1");
        let page = PAGE.load(Ordering::Relaxed).max(4096);
        std::fs::write(&path, vec![b'x'; 4 * page]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the test maps its own file; the guard below is what makes
        // the truncation safe.
        let map = unsafe { memmap2::Mmap::map(&file).unwrap() };
        let guard = Guard::register(map.as_ptr(), map.len()).expect("guard installed");
        assert_eq!(guard.cut_at(), None);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(page as u64)
            .unwrap();
        // Without the guard this read would kill the test process.
        let tail: u64 = map[page..].iter().map(|&b| u64::from(b)).sum();
        assert_eq!(tail, 0);
        assert_eq!(map[0], b'x');
        assert_eq!(guard.cut_at(), Some(page));
        drop(guard);
    }
}
