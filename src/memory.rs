//! How the process's heap is kept: glibc's allocator holds what threads
//! free, which raised the peak of a run well above what it used at once.
//! Both calls do nothing off glibc.

/// Two heap arenas instead of up to eight per core: otherwise the parse
/// threads, the reader and polars' writers each keep freed memory in an
/// arena of their own (5 M generated lines with `--parquet`: 388 MiB peak
/// with the default, 283 MiB with two). Called first thing in `main`,
/// before any other thread exists.
pub fn fewer_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter, and no other thread
    // allocates yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands the heap's free pages back to the system: called between a
/// phase that freed much (reading, analysis) and one that allocates anew
/// (encoding the event tables), so the second does not build on the
/// first's leftovers.
pub fn give_back_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages; no pointer changes.
    unsafe {
        libc::malloc_trim(0);
    }
}
