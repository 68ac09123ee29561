//! A fixed-capacity FIFO of `Copy` values, for the machine's event and transmit queues.

#[derive(Debug, Clone)]
pub(crate) struct Ring<T: Copy, const N: usize> {
    items: [Option<T>; N],
    head: usize,
    len: usize,
}

impl<T: Copy, const N: usize> Ring<T, N> {
    pub(crate) const fn new() -> Self {
        Ring {
            items: [None; N],
            head: 0,
            len: 0,
        }
    }

    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends; returns false (and drops `item`) when full.
    pub(crate) fn push(&mut self, item: T) -> bool {
        if self.len == N {
            return false;
        }
        let slot = (self.head + self.len) % N;
        if let Some(s) = self.items.get_mut(slot) {
            *s = Some(item);
            self.len += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn peek(&self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.items.get(self.head).copied().flatten()
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.items.get_mut(self.head).and_then(Option::take);
        self.head = (self.head + 1) % N;
        self.len -= 1;
        item
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn fifo_and_capacity() {
        let mut r: Ring<u8, 3> = Ring::new();
        assert!(r.push(1) && r.push(2) && r.push(3));
        assert!(!r.push(4));
        assert_eq!(r.pop(), Some(1));
        assert!(r.push(5));
        assert_eq!(r.peek(), Some(2));
        assert_eq!(
            (r.pop(), r.pop(), r.pop(), r.pop()),
            (Some(2), Some(3), Some(5), None)
        );
        assert!(r.is_empty());
    }
}
