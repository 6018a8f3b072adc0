//! A FIFO with a fixed capacity that refuses, rather than grows, when full (OVS `guarded_list` with a limit).

use std::collections::VecDeque;

/// `MAX_QUEUE_LENGTH` of every udpif queue.
pub const MAX_QUEUE_LENGTH: usize = 512;

#[derive(Clone, Debug)]
pub struct BoundedQueue<T> {
    items: VecDeque<T>,
    max_len: usize,
}

impl<T> BoundedQueue<T> {
    pub fn new(max_len: usize) -> Self {
        BoundedQueue { items: VecDeque::new(), max_len }
    }

    /// Appends `item` and returns the new length, or gives `item` back when the queue is full.
    pub fn push(&mut self, item: T) -> Result<usize, T> {
        if self.items.len() >= self.max_len {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(self.items.len())
    }

    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// Removes up to `n` items from the front, in order.
    pub fn take(&mut self, n: usize) -> impl Iterator<Item = T> + '_ {
        let n = n.min(self.items.len());
        self.items.drain(..n)
    }

    /// Empties the queue and returns how many items it held.
    pub fn clear(&mut self) -> usize {
        let n = self.items.len();
        self.items.clear();
        n
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_when_full_and_keeps_order() {
        let mut q = BoundedQueue::new(3);
        assert_eq!(q.push(1), Ok(1));
        assert_eq!(q.push(2), Ok(2));
        assert_eq!(q.push(3), Ok(3));
        assert_eq!(q.push(4), Err(4));
        assert_eq!(q.take(2).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(q.push(5), Ok(2));
        assert_eq!(q.pop(), Some(3));
        assert_eq!(q.take(9).collect::<Vec<_>>(), vec![5]);
        assert!(q.is_empty());
        assert_eq!(q.push(6), Ok(1));
        assert_eq!(q.clear(), 1);
    }
}
