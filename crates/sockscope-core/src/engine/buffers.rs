//! Read buffers handed from the I/O thread to the sink and back. A flood of large reads would
//! otherwise allocate a fresh buffer per read, and the allocator hands freed ones back to the
//! OS and faults fresh zeroed pages in for the next: that cost more than the reads themselves.

use std::sync::{Arc, Mutex, PoisonError};

/// Reads at least this long travel in a pooled buffer; smaller ones get one of their own size
/// (cheap to allocate, and a pooled buffer would hold far more than they need).
const POOLED_FROM: usize = 16 << 10;
/// Capacity of a pooled buffer: one whole read.
const POOLED_CAPACITY: usize = super::link::READ_BUF;
/// Buffers kept for reuse at most.
const KEEP: usize = 64;

/// Keeps the engine's large buffers (reads of 64–256 KiB, log buffers of 1 MiB) off the C
/// heap: glibc raises its mmap threshold to the largest block freed (up to 32 MiB), after which
/// those buffers came from its heaps, where freed ones stayed in the process. A 3 GiB flood into
/// the window's 256 MiB log grew it by ~430 MB; with the threshold fixed at 128 KiB, ~345 MB.
/// Call it first thing in a program (before other threads start); elsewhere than glibc it does
/// nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "mallopt has no safe wrapper")]
pub fn keep_large_buffers_off_the_heap() {
    // SAFETY: mallopt only sets an allocator tunable; it takes no pointer of ours. A refused
    // setting (it returns 0) leaves glibc's default behaviour.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

/// Other allocators do not keep large freed blocks this way.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_large_buffers_off_the_heap() {}

/// A pool of read buffers, shared by an engine and its sink.
#[derive(Clone, Default)]
pub struct Buffers(Arc<Mutex<Vec<Vec<u8>>>>);

impl Buffers {
    /// A copy of `bytes` in a buffer of the pool (large reads) or of its own (small ones).
    pub fn copy_of(&self, bytes: &[u8]) -> Vec<u8> {
        if bytes.len() < POOLED_FROM {
            return bytes.to_vec();
        }
        let mut buf = self.take(bytes.len());
        buf.extend_from_slice(bytes);
        buf
    }

    /// A buffer to read into: `len` is at least half its (pooled) capacity, its bytes are old
    /// data or zeros — never uninitialised, and not cleared again for each read.
    pub fn read_buffer(&self) -> Vec<u8> {
        let pooled = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        pooled.unwrap_or_else(|| vec![0; POOLED_CAPACITY])
    }

    /// The first `n` bytes of a [`read_buffer`](Self::read_buffer): the buffer itself for a
    /// large read, an exact copy for a small one (the buffer goes back to the pool).
    pub fn filled(&self, mut buf: Vec<u8>, n: usize) -> Vec<u8> {
        if n >= POOLED_FROM {
            buf.truncate(n);
            buf
        } else {
            let small = buf.get(..n).unwrap_or_default().to_vec();
            self.give(buf);
            small
        }
    }

    /// An empty buffer with room for `len` bytes, from the pool when it is a large one.
    pub fn take(&self, len: usize) -> Vec<u8> {
        if (POOLED_FROM..=POOLED_CAPACITY).contains(&len)
            && let Some(mut buf) = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop()
        {
            buf.clear();
            return buf;
        }
        Vec::with_capacity(if len >= POOLED_FROM {
            len.max(POOLED_CAPACITY)
        } else {
            len
        })
    }

    /// Gives a spent buffer back (only pooled-size ones are kept). It keeps its length, so the
    /// next read into it needs no zeroing; only one that fell below half is zeroed up to full.
    pub fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() != POOLED_CAPACITY {
            return;
        }
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < KEEP {
            if buf.len() < POOLED_CAPACITY / 2 {
                buf.resize(POOLED_CAPACITY, 0);
            }
            kept.push(buf);
        }
    }

    /// Tops the pool up to `n` buffers whose pages are already in memory, so the I/O thread
    /// reads into them without page faults. Called off the I/O thread (the session's collector,
    /// between rounds): while the log grows to its cap every read needs fresh memory, and the
    /// kernel's zeroing of it was a quarter of the I/O thread's time.
    pub fn prefill(&self, n: usize) {
        loop {
            if self.kept() >= n.min(KEEP) {
                return;
            }
            let mut buf = vec![0u8; POOLED_CAPACITY];
            // Touch every page now (a calloc'd buffer is mapped lazily).
            for page in buf.iter_mut().step_by(4096) {
                *page = 1;
            }
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(buf);
        }
    }

    /// Lets go of every buffer kept for reuse (the log was cleared: the memory goes back).
    pub fn release(&self) {
        let kept = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        drop(kept);
    }

    /// Buffers waiting for reuse.
    pub fn kept(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_reads_reuse_given_buffers_and_small_ones_are_exact() {
        let pool = Buffers::default();
        let big = pool.copy_of(&vec![7; 40_000]);
        assert_eq!(big.capacity(), POOLED_CAPACITY);
        let address = big.as_ptr();
        pool.give(big);
        assert_eq!(pool.kept(), 1);
        let again = pool.copy_of(&vec![1; 20_000]);
        assert_eq!(again.as_ptr(), address, "the same buffer, not a fresh one");
        assert_eq!(again, vec![1; 20_000]);
        pool.give(again);
        let read = pool.read_buffer();
        assert_eq!(
            read.len(),
            POOLED_CAPACITY,
            "ready to read into (it was short)"
        );
        assert_eq!(read.as_ptr(), address);
        let whole = pool.filled(read, 30_000);
        assert_eq!(
            (whole.len(), whole.as_ptr()),
            (30_000, address),
            "a large read: no copy"
        );
        pool.give(whole);
        let few = pool.filled(pool.read_buffer(), 3);
        assert_eq!(
            (few.len(), few.capacity()),
            (3, 3),
            "a small read: an exact copy"
        );
        assert_eq!(pool.kept(), 1, "and its buffer went back");
        let small = pool.copy_of(b"hi");
        assert_eq!(small.capacity(), 2);
        pool.give(small);
        assert_eq!(pool.kept(), 1, "odd sizes are not kept");
    }
}
