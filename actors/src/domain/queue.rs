//! The waiting queue of one project (seed 003 §5.4.3, §5.4.6): FIFO by the
//! time a conversation entered it, 1-based positions computed on demand, and
//! the wait estimate shown to customers.

use crate::ids::ConversationId;
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

/// Conversations waiting for an agent, oldest `entered_at` first; equal
/// times are ordered by conversation id so the order is total and stable.
#[derive(Debug, Default, Clone)]
pub struct WaitQueue {
    order: BTreeSet<(DateTime<Utc>, ConversationId)>,
    entered: HashMap<ConversationId, DateTime<Utc>>,
}

impl WaitQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `id` as having entered at `entered_at`. Pushing an id that is
    /// already queued replaces its entry time (and so its place).
    pub fn push(&mut self, id: ConversationId, entered_at: DateTime<Utc>) {
        if let Some(previous) = self.entered.insert(id, entered_at) {
            self.order.remove(&(previous, id));
        }
        self.order.insert((entered_at, id));
    }

    /// Takes `id` out of the queue; false if it was not queued.
    pub fn remove(&mut self, id: ConversationId) -> bool {
        match self.entered.remove(&id) {
            Some(at) => self.order.remove(&(at, id)),
            None => false,
        }
    }

    /// The conversation that has waited longest.
    pub fn front(&self) -> Option<ConversationId> {
        self.order.first().map(|&(_, id)| id)
    }

    /// Removes and returns the conversation that has waited longest.
    pub fn pop_front(&mut self) -> Option<ConversationId> {
        let (_, id) = self.order.pop_first()?;
        self.entered.remove(&id);
        Some(id)
    }

    pub fn contains(&self, id: ConversationId) -> bool {
        self.entered.contains_key(&id)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// 1-based place of `id` in the queue (1 = next to be served).
    pub fn position(&self, id: ConversationId) -> Option<usize> {
        let at = *self.entered.get(&id)?;
        Some(self.order.range(..(at, id)).count() + 1)
    }

    /// Every queued conversation with its position, in queue order: 1..=len.
    pub fn positions(&self) -> impl Iterator<Item = (ConversationId, usize)> + '_ {
        self.order
            .iter()
            .enumerate()
            .map(|(index, &(_, id))| (id, index + 1))
    }

    /// Every queued conversation with its entry time, in queue order.
    pub fn iter(&self) -> impl Iterator<Item = (ConversationId, DateTime<Utc>)> + '_ {
        self.order.iter().map(|&(at, id)| (id, at))
    }

    /// When `id` entered the queue.
    pub fn entered_at(&self, id: ConversationId) -> Option<DateTime<Utc>> {
        self.entered.get(&id).copied()
    }
}

/// Average handling time used until a project has history of its own.
pub const DEFAULT_AVG_HANDLING_MINUTES: f64 = 5.0;

/// Estimated wait in whole minutes for the conversation at `position`
/// (§5.4.6): `ceil(position * avg / agents_online)`, at least 1. `None`
/// (unknown) when no agent is online. A negative or non-finite average
/// falls back to [`DEFAULT_AVG_HANDLING_MINUTES`]; huge results saturate.
pub fn estimate_wait_minutes(
    position: usize,
    avg_handling_minutes: f64,
    agents_online: usize,
) -> Option<u32> {
    if agents_online == 0 {
        return None;
    }
    let avg = if avg_handling_minutes.is_finite() && avg_handling_minutes >= 0.0 {
        avg_handling_minutes
    } else {
        DEFAULT_AVG_HANDLING_MINUTES
    };
    let minutes = (position as f64 * avg / agents_online as f64).ceil();
    // `as` saturates at u32::MAX for out-of-range floats.
    Some((minutes as u32).max(1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use chrono::Duration;
    use uuid::Uuid;

    fn cid(n: u128) -> ConversationId {
        ConversationId(Uuid::from_u128(n))
    }

    fn order(q: &WaitQueue) -> Vec<ConversationId> {
        q.positions().map(|(id, _)| id).collect()
    }

    fn assert_consistent(q: &WaitQueue) {
        let positions: Vec<_> = q.positions().collect();
        assert_eq!(positions.len(), q.len());
        for (expected, (id, pos)) in (1..).zip(positions) {
            assert_eq!(pos, expected);
            assert_eq!(q.position(id), Some(pos));
            assert!(q.contains(id));
        }
        assert_eq!(q.is_empty(), q.positions().next().is_none());
        assert_eq!(q.front(), q.positions().next().map(|(id, _)| id));
    }

    #[test]
    fn fifo_by_entry_time_not_push_order() {
        let t0 = ManualClock::at_default().now();
        let mut q = WaitQueue::new();
        q.push(cid(1), t0 + Duration::seconds(20));
        q.push(cid(2), t0);
        q.push(cid(3), t0 + Duration::seconds(10));
        assert_eq!(order(&q), vec![cid(2), cid(3), cid(1)]);
        assert_eq!(q.position(cid(2)), Some(1));
        assert_eq!(q.position(cid(3)), Some(2));
        assert_eq!(q.position(cid(1)), Some(3));
        assert_eq!(q.front(), Some(cid(2)));
        assert_consistent(&q);
    }

    #[test]
    fn equal_entry_times_order_by_id() {
        let t0 = ManualClock::at_default().now();
        let mut q = WaitQueue::new();
        q.push(cid(9), t0);
        q.push(cid(4), t0);
        q.push(cid(6), t0);
        assert_eq!(order(&q), vec![cid(4), cid(6), cid(9)]);
        assert_consistent(&q);
    }

    #[test]
    fn positions_close_gaps_after_removal_and_pop() {
        let clock = ManualClock::at_default();
        let mut q = WaitQueue::new();
        for n in 1..=6 {
            q.push(cid(n), clock.now());
            clock.advance(Duration::seconds(1));
        }
        assert!(q.remove(cid(3)));
        assert!(!q.remove(cid(3)));
        assert!(!q.contains(cid(3)));
        assert_eq!(q.position(cid(3)), None);
        assert_eq!(q.position(cid(4)), Some(3));
        assert_consistent(&q);
        assert_eq!(q.pop_front(), Some(cid(1)));
        assert_eq!(q.position(cid(2)), Some(1));
        assert_eq!(q.position(cid(6)), Some(4));
        assert!(q.remove(cid(6)));
        assert_eq!(
            q.positions().collect::<Vec<_>>(),
            vec![(cid(2), 1), (cid(4), 2), (cid(5), 3)]
        );
        assert_consistent(&q);
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn repush_replaces_entry_time() {
        let t0 = ManualClock::at_default().now();
        let mut q = WaitQueue::new();
        q.push(cid(1), t0);
        q.push(cid(2), t0 + Duration::seconds(1));
        q.push(cid(1), t0 + Duration::seconds(2));
        assert_eq!(q.len(), 2);
        assert_eq!(order(&q), vec![cid(2), cid(1)]);
        assert_eq!(q.entered_at(cid(1)), Some(t0 + Duration::seconds(2)));
        // Re-push with the same time is a no-op.
        q.push(cid(2), t0 + Duration::seconds(1));
        assert_eq!(q.len(), 2);
        assert_consistent(&q);
        // Removing after a re-push leaves nothing behind.
        assert!(q.remove(cid(1)));
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_front(), Some(cid(2)));
        assert!(q.is_empty());
    }

    #[test]
    fn empty_queue() {
        let mut q = WaitQueue::default();
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        assert_eq!(q.front(), None);
        assert_eq!(q.pop_front(), None);
        assert_eq!(q.position(cid(1)), None);
        assert_eq!(q.entered_at(cid(1)), None);
        assert!(!q.remove(cid(1)));
        assert_eq!(q.positions().count(), 0);
    }

    #[test]
    fn pop_drains_in_order() {
        let t0 = ManualClock::at_default().now();
        let mut q = WaitQueue::new();
        for (n, secs) in [(1, 30), (2, 10), (3, 20), (4, 10)] {
            q.push(cid(n), t0 + Duration::seconds(secs));
        }
        assert_eq!(
            q.iter().collect::<Vec<_>>()[0],
            (cid(2), t0 + Duration::seconds(10))
        );
        let drained: Vec<_> = std::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(drained, vec![cid(2), cid(4), cid(3), cid(1)]);
        assert!(q.is_empty());
        assert_eq!(q.entered_at(cid(2)), None);
    }

    #[test]
    fn estimate_math() {
        assert_eq!(estimate_wait_minutes(3, 5.0, 0), None);
        assert_eq!(estimate_wait_minutes(1, 5.0, 1), Some(5));
        assert_eq!(estimate_wait_minutes(3, 5.0, 2), Some(8)); // 7.5 -> 8
        assert_eq!(estimate_wait_minutes(4, 5.0, 2), Some(10));
        assert_eq!(estimate_wait_minutes(1, 5.0, 10), Some(1)); // 0.5 -> 1
        assert_eq!(estimate_wait_minutes(1, 0.1, 10), Some(1)); // 0.01 -> 1
        assert_eq!(estimate_wait_minutes(0, 5.0, 1), Some(1)); // at least 1
        assert_eq!(estimate_wait_minutes(2, 0.0, 1), Some(1));
        assert_eq!(estimate_wait_minutes(7, 2.5, 3), Some(6)); // 5.83 -> 6
        assert_eq!(
            estimate_wait_minutes(1, DEFAULT_AVG_HANDLING_MINUTES, 1),
            Some(5)
        );
    }

    #[test]
    fn estimate_with_bad_average_uses_default_and_saturates() {
        assert_eq!(estimate_wait_minutes(2, f64::NAN, 1), Some(10));
        assert_eq!(estimate_wait_minutes(2, -3.0, 1), Some(10));
        assert_eq!(estimate_wait_minutes(2, f64::INFINITY, 1), Some(10));
        assert_eq!(estimate_wait_minutes(usize::MAX, 1e300, 1), Some(u32::MAX));
    }
}
