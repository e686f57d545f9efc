//! Memory a cleared log freed, given back to the OS.
//!
//! glibc keeps freed heap memory for reuse rather than returning it: after a flood filled the
//! log, Clear (or closing the tab) dropped every buffer and the process still held them all.
//! `malloc_trim` hands back what is free now. Elsewhere the allocator decides.

/// Returns freed heap memory to the OS now (glibc only; a no-op elsewhere).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    trim();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "malloc_trim has no safe wrapper in std or libc")]
fn trim() {
    // SAFETY: malloc_trim takes no pointers and only walks the allocator's own free lists,
    // under the allocator's locks; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
