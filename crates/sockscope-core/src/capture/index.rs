//! The log's index: a queue of entries in blocks of a fixed size. It grows by a block, not by
//! doubling (a `VecDeque` of short records' entries held up to twice what it used, and copied
//! all of it at each doubling), and the block emptied at the front is used again at the back.

use std::collections::VecDeque;

/// Entries per block: 4096 entries of the log's 64 bytes are 256 KiB.
pub const BLOCK: usize = 4096;

/// A FIFO of `T` in blocks of [`BLOCK`].
pub struct Index<T> {
    blocks: VecDeque<Vec<T>>,
    /// Entries of the first block already taken from the front.
    head: usize,
    len: usize,
    /// An emptied block kept for the next one needed.
    spare: Option<Vec<T>>,
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Self {
            blocks: VecDeque::new(),
            head: 0,
            len: 0,
            spare: None,
        }
    }
}

impl<T: Copy> Index<T> {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room allocated, in entries (blocks in use and the spare).
    pub fn capacity(&self) -> usize {
        (self.blocks.len() + usize::from(self.spare.is_some())) * BLOCK
    }

    fn place(&self, i: usize) -> (usize, usize) {
        let at = self.head + i;
        (at / BLOCK, at % BLOCK)
    }

    /// Entry `i` from the front.
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let (block, at) = self.place(i);
        self.blocks.get(block).and_then(|b| b.get(at))
    }

    /// Entry `i` from the front, to change.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        let (block, at) = self.place(i);
        self.blocks.get_mut(block).and_then(|b| b.get_mut(at))
    }

    /// The oldest entry.
    pub fn front(&self) -> Option<&T> {
        self.get(0)
    }

    /// The newest entry.
    pub fn back(&self) -> Option<&T> {
        self.blocks.back().and_then(|b| b.last())
    }

    /// The newest entry, to change.
    pub fn back_mut(&mut self) -> Option<&mut T> {
        self.blocks.back_mut().and_then(|b| b.last_mut())
    }

    /// Adds an entry at the back.
    pub fn push_back(&mut self, entry: T) {
        if self.blocks.back().is_none_or(|b| b.len() == BLOCK) {
            let block = self
                .spare
                .take()
                .unwrap_or_else(|| Vec::with_capacity(BLOCK));
            self.blocks.push_back(block);
        }
        if let Some(block) = self.blocks.back_mut() {
            block.push(entry);
            self.len += 1;
        }
    }

    /// The oldest entry, to change.
    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.get_mut(0)
    }

    /// Takes the oldest entry.
    pub fn pop_front(&mut self) -> Option<T> {
        let entry = *self.get(0)?;
        self.head += 1;
        self.len -= 1;
        let emptied = self.blocks.front().is_some_and(|b| self.head == b.len());
        if emptied && (self.head == BLOCK || self.len == 0) {
            self.head = 0;
            if let Some(mut block) = self.blocks.pop_front() {
                block.clear();
                self.spare = Some(block);
            }
        }
        Some(entry)
    }

    /// Entries from `from` on, each with its position.
    pub fn iter_from(&self, from: usize) -> Iter<'_, T> {
        Iter {
            index: self,
            front: from.min(self.len),
            back: self.len,
        }
    }
}

/// Entries of an [`Index`] in order, with their positions.
pub struct Iter<'a, T> {
    index: &'a Index<T>,
    front: usize,
    back: usize,
}

impl<'a, T: Copy> Iterator for Iter<'a, T> {
    type Item = (usize, &'a T);

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let i = self.front;
        self.front += 1;
        self.index.get(i).map(|entry| (i, entry))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }
}

impl<T: Copy> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        let i = self.back;
        self.index.get(i).map(|entry| (i, entry))
    }
}

impl<T: Copy> ExactSizeIterator for Iter<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The index behaves as a `VecDeque` under any mix of pushes, pops and lookups, and
        /// holds at most two blocks more than it needs.
        #[test]
        fn acts_as_a_queue(ops in proptest::collection::vec((0u8..4, 0usize..2 * BLOCK + 9), 0..24)) {
            let (mut index, mut model) = (Index::default(), VecDeque::new());
            let mut next = 0u64;
            for (op, n) in ops {
                match op {
                    0 | 1 => for _ in 0..n {
                        index.push_back(next);
                        model.push_back(next);
                        next += 1;
                    },
                    2 => for _ in 0..n {
                        prop_assert_eq!(index.pop_front(), model.pop_front());
                    },
                    _ => {
                        if let Some(last) = index.back_mut() {
                            *last += 1_000_000;
                        }
                        if let Some(last) = model.back_mut() {
                            *last += 1_000_000;
                        }
                    }
                }
                prop_assert_eq!(index.len(), model.len());
                prop_assert_eq!(index.front(), model.front());
                let from = n % (model.len() + 1);
                let got: Vec<(usize, u64)> = index.iter_from(from).map(|(i, v)| (i, *v)).collect();
                let want: Vec<(usize, u64)> = model.iter().copied().enumerate().skip(from).collect();
                prop_assert_eq!(&got, &want);
                let back: Vec<u64> = index.iter_from(from).rev().map(|(_, v)| *v).collect();
                prop_assert_eq!(back, want.iter().rev().map(|(_, v)| *v).collect::<Vec<_>>());
                prop_assert_eq!(index.iter_from(from).len(), want.len());
                prop_assert_eq!(index.get(n), model.get(n));
                prop_assert!(index.capacity() <= model.len() + 2 * BLOCK + BLOCK);
            }
        }
    }
}
