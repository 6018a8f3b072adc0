//! A first-in first-out queue that costs one pointer while empty.
//!
//! Most connections are idle most of the time, and each keeps several queues (messages to send,
//! outputs and events for its owner). An empty `VecDeque` is four words; this is one, and it frees
//! its storage as soon as the last item leaves, so an idle connection keeps nothing of its last burst.

use std::collections::VecDeque;

// The box is the point: one pointer while empty instead of the deque's four words.
#[allow(clippy::box_collection)]
#[derive(Debug)]
pub struct Fifo<T>(Option<Box<VecDeque<T>>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(None)
    }
}

impl<T> Fifo<T> {
    pub const fn new() -> Self {
        Fifo(None)
    }

    pub fn push_back(&mut self, item: T) {
        self.0.get_or_insert_with(Default::default).push_back(item);
    }

    /// Removes the oldest item, releasing all storage when it was the last one.
    pub fn pop_front(&mut self) -> Option<T> {
        let q = self.0.as_mut()?;
        let item = q.pop_front();
        if q.is_empty() {
            self.0 = None;
        }
        item
    }

    pub fn front(&self) -> Option<&T> {
        self.0.as_ref()?.front()
    }

    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.0.as_mut()?.front_mut()
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |q| q.len())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.0.iter().flat_map(|q| q.iter())
    }

    /// Removes every item, oldest first, releasing the storage.
    pub fn take_all(&mut self) -> impl Iterator<Item = T> {
        self.0.take().into_iter().flat_map(|q| q.into_iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_frees_storage_once_empty() {
        let mut q = Fifo::new();
        assert!(q.is_empty() && q.front().is_none());
        q.push_back(1);
        q.push_back(2);
        assert_eq!((q.len(), q.front()), (2, Some(&1)));
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(q.pop_front(), Some(1));
        assert!(q.0.is_some());
        assert_eq!(q.pop_front(), Some(2));
        assert!(q.0.is_none(), "storage released with the last item");
        assert_eq!(q.pop_front(), None);
        q.push_back(3);
        q.push_back(4);
        assert_eq!(q.take_all().collect::<Vec<_>>(), [3, 4]);
        assert!(q.is_empty() && q.0.is_none());
    }

    #[test]
    fn is_one_pointer() {
        assert_eq!(std::mem::size_of::<Fifo<[u64; 4]>>(), std::mem::size_of::<usize>());
    }
}
