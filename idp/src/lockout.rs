//! Counting failed answers: the rules the Vault applies to one counter, as pure functions.
//!
//! An attempt is counted *before* its answer is checked, in the same Vault operation that
//! checks the limit, so concurrent guesses cannot outrun it; a right answer (or no answer at
//! all, like a malformed code) gives its attempt back. Two kinds of limit:
//! - [`Limit::Lock`]: at most `max` attempts within the window, then refused until the oldest
//!   leaves it. Used per user where the first factor was checked before the sign-in started
//!   (the Cognito stack's pushed requests), and per attacking client (browser and address).
//! - [`Limit::Pace`]: `free` attempts, then each one must wait twice as long after the last
//!   as the one before (1 s, 2 s, 4 s, ... up to `cap`): the account is slowed, never locked
//!   (NIST SP 800-63B section 5.2.2), so nobody can lock an admin out by typing their name.

use serde::{Deserialize, Serialize};

/// Failed answers that lock an authenticator for a user.
pub const MAX_FAILURES: u64 = 5;
/// The window failures are counted in, and how long a lock-out lasts (seconds).
pub const LOCKOUT_WINDOW: u64 = 15 * 60;
/// Failed answers one browser may give in sign-ins nobody vouched for, per window.
pub const CLIENT_FAILURES: u64 = 5;
/// Failed answers one network address may give in such sign-ins, per window.
pub const ADDRESS_FAILURES: u64 = 30;
/// An account named in sign-ins nobody vouched for: failures before the delays start.
pub const ACCOUNT_FREE: u64 = 5;
/// ... the longest delay between two of its attempts (seconds) ...
pub const ACCOUNT_MAX_DELAY: u64 = 15 * 60;
/// ... and how long its failures are remembered (seconds).
pub const ACCOUNT_WINDOW: u64 = 24 * 60 * 60;

/// How a counter limits attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Limit {
    /// At most `max` attempts within the window.
    Lock { max: u64 },
    /// `free` attempts, then growing delays between attempts, at most `cap` seconds.
    Pace { free: u64, cap: u64 },
}

/// The attempts a counter holds: (Unix seconds, attempt id), oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Attempts(pub Vec<(u64, String)>);

/// What [`Attempts::reserve`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted; `count` attempts are now within the window.
    Counted { count: u64 },
    /// Refused: the limit is reached; try again at `retry_at` (Unix seconds).
    Refused { count: u64, retry_at: u64 },
}

/// A counter's layout before, for a counter that moved to another key (a user's
/// authenticator counters moved into the user's status object): its first operation in the
/// new place takes on the attempts the layout before holds ([`moved`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Earlier {
    /// The counter never lived elsewhere.
    #[default]
    Nothing,
    /// It did, and what it held there is not read yet.
    Unread,
    /// The attempts it holds there.
    Read(Attempts),
}

impl Earlier {
    pub fn is_nothing(&self) -> bool {
        *self == Self::Nothing
    }
}

/// The attempts an operation of a counter works on, from those it `stored` (`None`: nothing
/// yet) and its [`Earlier`] layout: what it stores, else what the layout before holds (then
/// `true`: the operation stores them, so they are taken on once, whatever it decides). `None`
/// when it stores nothing and the layout before is [`Earlier::Unread`]: nothing changed; ask
/// again with what the layout before holds.
pub fn moved(stored: Option<Attempts>, earlier: Earlier) -> Option<(Attempts, bool)> {
    match (stored, earlier) {
        (Some(attempts), _) => Some((attempts, false)),
        (None, Earlier::Nothing) => Some((Attempts::default(), false)),
        (None, Earlier::Unread) => None,
        (None, Earlier::Read(attempts)) => Some((attempts, true)),
    }
}

/// The delay a paced counter asks for after `failures` attempts (seconds).
pub fn pace_delay(failures: u64, free: u64, cap: u64) -> u64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(40);
    (1u64 << doublings).min(cap)
}

impl Attempts {
    /// Drops the attempts that left the window.
    pub fn prune(&mut self, now: u64, window: u64) {
        self.0.retain(|(t, _)| t.saturating_add(window) > now);
    }

    /// Attempts within the window (after [`Self::prune`]).
    pub fn count(&self) -> u64 {
        self.0.len() as u64
    }

    /// The oldest attempt's time, or 0.
    pub fn oldest(&self) -> u64 {
        self.0.first().map_or(0, |(t, _)| *t)
    }

    /// When `limit` would refuse an attempt made `now` (Unix seconds), or `None` if it
    /// would count it.
    pub fn refused_until(&mut self, now: u64, window: u64, limit: Limit) -> Option<u64> {
        self.prune(now, window);
        let count = self.count();
        let retry_at = match limit {
            Limit::Lock { max } if count >= max => Some(self.oldest().saturating_add(window)),
            Limit::Lock { .. } => None,
            Limit::Pace { free, cap } => {
                let last = self.0.last().map_or(0, |(t, _)| *t);
                let ready = last.saturating_add(pace_delay(count, free, cap));
                (count >= free && now < ready).then_some(ready)
            }
        };
        retry_at.map(|t| t.max(now + 1))
    }

    /// Counts attempt `id` now unless `limit` refuses it.
    pub fn reserve(&mut self, now: u64, window: u64, limit: Limit, id: String) -> Reservation {
        let refused = self.refused_until(now, window, limit);
        let count = self.count();
        match refused {
            Some(retry_at) => Reservation::Refused { count, retry_at },
            None => {
                self.0.push((now, id));
                Reservation::Counted { count: count + 1 }
            }
        }
    }

    /// Takes on `other`'s attempts (those of an earlier counter), each id once, oldest first.
    pub fn take_on(&mut self, other: Attempts) {
        for attempt in other.0 {
            if !self.0.iter().any(|(_, id)| *id == attempt.1) {
                self.0.push(attempt);
            }
        }
        self.0.sort();
    }

    /// Gives back attempt `id`; true if it was there.
    pub fn release(&mut self, id: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|(_, a)| a != id);
        self.0.len() < before
    }
}

/// What one answer with a one-time code did to its user's counter and last used step
/// ([`answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answered {
    /// The limit refused it; nothing was counted or moved. Try again at `retry_at`.
    Refused { retry_at: u64 },
    /// Right, and its step was after the last one used: the step moved, nothing was counted.
    Accepted,
    /// Wrong (`used`: right, but its step was used already): counted; `count` attempts are
    /// now within the window.
    Counted { count: u64, used: bool },
    /// The counter has no last used step yet: nothing changed; ask again with the floor
    /// (the step a store of an earlier layout kept, 0 for none), which the answer then keeps.
    NeedFloor,
    /// The value of the counter's object was the answer's `barred_by` (the user's status
    /// object: the user is disabled): nothing was judged, counted or moved.
    Barred,
}

/// One answer with a one-time code, as the user's counter is asked to decide it ([`answer`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeAnswer {
    pub now: u64,
    pub window: u64,
    pub limit: Limit,
    /// The attempt's id, if it is counted.
    pub id: String,
    /// The time step the code matched; `None` for a wrong code.
    pub step: Option<u64>,
    /// The last step used as an earlier layout kept it (see [`Answered::NeedFloor`]).
    pub floor: Option<u64>,
    /// Not judged while the value of the object that keeps the counter is this (see
    /// [`Answered::Barred`]): the user's status is read in the same operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barred_by: Option<serde_json::Value>,
    /// With the floor: the attempts the earlier layout's counter holds, counted here too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<Attempts>,
}

/// One answer with a one-time code, decided in the one operation of the user's counter: the
/// limit is checked first (a refused answer says nothing of its verdict), then a right answer
/// (`step`: the time step it matched) moves `last` forward once, and a wrong or reused one is
/// counted as attempt `id`. Concurrent answers are serialised by the store, so no more than
/// the limit are ever judged and each step is accepted at most once. `floor` is the last step
/// used as an earlier layout kept it, for a counter that has none yet.
pub fn answer(attempts: &mut Attempts, last: &mut Option<u64>, own: Option<&serde_json::Value>, a: CodeAnswer) -> Answered {
    let CodeAnswer { now, window, limit, id, step, floor, barred_by, carried } = a;
    if barred_by.is_some() && own == barred_by.as_ref() {
        return Answered::Barred;
    }
    // A counter taking its floor takes on what the earlier layout's counter counted.
    if let (None, Some(_), Some(earlier)) = (*last, floor, carried) {
        attempts.take_on(earlier);
    }
    if let Some(retry_at) = attempts.refused_until(now, window, limit) {
        return Answered::Refused { retry_at };
    }
    // A counter without a last step takes the floor first, whatever the answer, so a wrong
    // answer also moves the counter to this layout and the floor is asked for once.
    let Some(l) = last.or(floor) else {
        return Answered::NeedFloor;
    };
    *last = Some(l);
    let used = match step {
        Some(s) if s > l => {
            *last = Some(s);
            return Answered::Accepted;
        }
        Some(_) => true,
        None => false,
    };
    match attempts.reserve(now, window, limit, id) {
        Reservation::Counted { count } => Answered::Counted { count, used },
        Reservation::Refused { retry_at, .. } => Answered::Refused { retry_at },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_counter_takes_on_its_earlier_layouts_attempts_once() {
        let held = Attempts(vec![(100, "a".into()), (110, "b".into())]);
        // Stored already: what the layout before holds is not looked at.
        for earlier in [Earlier::Nothing, Earlier::Unread, Earlier::Read(Attempts::default())] {
            assert_eq!(moved(Some(held.clone()), earlier), Some((held.clone(), false)));
        }
        // Nothing stored and no layout before: an empty counter, nothing to store for it.
        assert_eq!(moved(None, Earlier::Nothing), Some((Attempts::default(), false)));
        // Nothing stored and the layout before unread: ask for it.
        assert_eq!(moved(None, Earlier::Unread), None);
        // Read: taken on, and stored even by an operation that counts nothing.
        assert_eq!(moved(None, Earlier::Read(held.clone())), Some((held, true)));
        assert_eq!(moved(None, Earlier::Read(Attempts::default())), Some((Attempts::default(), true)));
        assert!(Earlier::Nothing.is_nothing() && !Earlier::Unread.is_nothing());
    }

    #[test]
    fn an_answer_is_checked_moved_or_counted_in_one_operation() {
        let lock = Limit::Lock { max: 2 };
        let code = |now, id, step, floor| code_with(lock, now, id, step, floor);
        let (mut a, mut last) = (Attempts::default(), None);
        // A right answer on a counter without a last step asks for the floor, changing nothing.
        assert_eq!(answer(&mut a, &mut last, None, code(100, "1", Some(10), None)), Answered::NeedFloor);
        assert_eq!((a.count(), last), (0, None));
        // A wrong one too: the floor comes first.
        assert_eq!(answer(&mut a, &mut last, None, code(100, "0", None, None)), Answered::NeedFloor);
        assert_eq!((a.count(), last), (0, None));
        // With the floor: a step at or below it is a reuse (counted), above it is accepted once.
        assert_eq!(answer(&mut a, &mut last, None, code(100, "1", Some(10), Some(10))), Answered::Counted { count: 1, used: true });
        assert_eq!(last, Some(10));
        assert_eq!(answer(&mut a, &mut last, None, code(101, "2", Some(11), None)), Answered::Accepted);
        assert_eq!((a.count(), last), (1, Some(11)));
        assert_eq!(answer(&mut a, &mut last, None, code(102, "3", Some(11), None)), Answered::Counted { count: 2, used: true });
        // At the limit every answer is refused before its verdict, the right one included.
        assert_eq!(answer(&mut a, &mut last, None, code(103, "4", Some(12), None)), Answered::Refused { retry_at: 1000 });
        assert_eq!(answer(&mut a, &mut last, None, code(103, "5", None, None)), Answered::Refused { retry_at: 1000 });
        assert_eq!((a.count(), last), (2, Some(11)));
        // Once the window has passed, a wrong answer is counted again and a right one accepted.
        assert_eq!(answer(&mut a, &mut last, None, code(1000, "6", None, None)), Answered::Counted { count: 2, used: false });
        assert_eq!(answer(&mut a, &mut last, None, code(1003, "7", Some(40), None)), Answered::Accepted);
    }

    #[test]
    fn an_answer_barred_by_its_objects_value_is_not_judged() {
        let lock = Limit::Lock { max: 5 };
        let (mut a, mut last) = (Attempts::default(), Some(3));
        let disabled = serde_json::Value::Bool(true);
        let ask = |step: Option<u64>| CodeAnswer {
            now: 100,
            window: 900,
            limit: lock,
            id: "1".into(),
            step,
            floor: None,
            barred_by: Some(disabled.clone()),
            carried: None,
        };
        for step in [Some(7), None] {
            assert_eq!(answer(&mut a, &mut last, Some(&disabled), ask(step)), Answered::Barred);
        }
        assert_eq!((a.count(), last), (0, Some(3)), "nothing counted or moved");
        // Any other value, or none, bars nothing.
        assert_eq!(answer(&mut a, &mut last, Some(&serde_json::Value::Bool(false)), ask(None)), Answered::Counted { count: 1, used: false });
        assert_eq!(answer(&mut a, &mut last, None, ask(Some(7))), Answered::Accepted);
        // Without `barred_by`, the object's value is not looked at.
        let free = CodeAnswer { barred_by: None, ..ask(Some(8)) };
        assert_eq!(answer(&mut a, &mut last, Some(&disabled), free), Answered::Accepted);
    }

    #[test]
    fn a_counter_taking_its_floor_takes_on_the_earlier_counters_attempts() {
        let lock = Limit::Lock { max: 3 };
        let (mut a, mut last) = (Attempts::default(), None);
        let earlier = Attempts(vec![(90, "x".into()), (95, "y".into())]);
        let ask = |id: &str, step: Option<u64>, carried: Option<Attempts>| CodeAnswer {
            now: 100,
            window: 900,
            limit: lock,
            id: id.into(),
            step,
            floor: Some(5),
            barred_by: None,
            carried,
        };
        // Two earlier failures and this wrong one: the limit of 3 is reached.
        assert_eq!(answer(&mut a, &mut last, None, ask("1", None, Some(earlier.clone()))), Answered::Counted { count: 3, used: false });
        assert_eq!(answer(&mut a, &mut last, None, ask("2", Some(9), Some(earlier))), Answered::Refused { retry_at: 990 });
        // Once the counter has its step, what is carried is not taken on again.
        let (mut b, mut last_b) = (Attempts::default(), Some(5));
        assert_eq!(answer(&mut b, &mut last_b, None, ask("3", None, Some(Attempts(vec![(90, "x".into())])))), Answered::Counted { count: 1, used: false });
    }

    #[test]
    fn a_wrong_answer_with_the_floor_keeps_the_floor() {
        let lock = Limit::Lock { max: 5 };
        let code = |now, id, step, floor| code_with(lock, now, id, step, floor);
        let (mut a, mut last) = (Attempts::default(), None);
        assert_eq!(answer(&mut a, &mut last, None, code(100, "1", None, Some(0))), Answered::Counted { count: 1, used: false });
        assert_eq!(last, Some(0), "kept: the floor is not asked for again");
        assert_eq!(answer(&mut a, &mut last, None, code(101, "2", Some(7), None)), Answered::Accepted);
        assert_eq!(last, Some(7));
    }

    /// An answer at `now` in a window of 900 s, neither barred nor carrying attempts.
    fn code_with(limit: Limit, now: u64, id: &str, step: Option<u64>, floor: Option<u64>) -> CodeAnswer {
        CodeAnswer { now, window: 900, limit, id: id.into(), step, floor, barred_by: None, carried: None }
    }

    fn ids(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("a{i}"))
    }

    #[test]
    fn a_lock_counts_at_most_max_then_refuses_until_the_oldest_leaves() {
        let mut a = Attempts::default();
        let lock = Limit::Lock { max: 5 };
        for (i, id) in ids(5).enumerate() {
            assert_eq!(a.reserve(100 + i as u64, 900, lock, id), Reservation::Counted { count: i as u64 + 1 });
        }
        assert_eq!(a.reserve(200, 900, lock, "x".into()), Reservation::Refused { count: 5, retry_at: 1000 });
        assert_eq!(a.reserve(1000, 900, lock, "y".into()), Reservation::Counted { count: 5 }, "the first left the window");
    }

    #[test]
    fn a_given_back_attempt_does_not_count() {
        let mut a = Attempts::default();
        let lock = Limit::Lock { max: 1 };
        assert_eq!(a.reserve(1, 900, lock, "right".into()), Reservation::Counted { count: 1 });
        assert!(a.release("right"));
        assert!(!a.release("right"));
        assert_eq!(a.reserve(2, 900, lock, "next".into()), Reservation::Counted { count: 1 });
    }

    #[test]
    fn pace_doubles_the_wait_after_the_free_attempts_and_never_locks() {
        assert_eq!((0..5).map(|n| pace_delay(n, 5, 900)).collect::<Vec<_>>(), vec![0; 5]);
        assert_eq!((5..10).map(|n| pace_delay(n, 5, 900)).collect::<Vec<_>>(), vec![1, 2, 4, 8, 16]);
        assert_eq!(pace_delay(15, 5, 900), 900);
        assert_eq!(pace_delay(u64::MAX, 5, 900), 900);

        let mut a = Attempts::default();
        let pace = Limit::Pace { free: 2, cap: 60 };
        let mut ids = ids(100);
        let mut next = || ids.next().unwrap_or_default();
        assert!(matches!(a.reserve(10, 3600, pace, next()), Reservation::Counted { .. }));
        assert!(matches!(a.reserve(10, 3600, pace, next()), Reservation::Counted { .. }));
        // Two failures: the next waits 1 s after the last, then 2 s, then 4 s.
        assert_eq!(a.reserve(10, 3600, pace, next()), Reservation::Refused { count: 2, retry_at: 11 });
        assert!(matches!(a.reserve(11, 3600, pace, next()), Reservation::Counted { count: 3 }));
        assert_eq!(a.reserve(12, 3600, pace, next()), Reservation::Refused { count: 3, retry_at: 13 });
        assert!(matches!(a.reserve(13, 3600, pace, next()), Reservation::Counted { count: 4 }));
        assert_eq!(a.reserve(16, 3600, pace, next()), Reservation::Refused { count: 4, retry_at: 17 });
        // However many failures, an attempt is always possible after at most `cap`.
        let mut t = 17;
        for _ in 0..20 {
            assert!(matches!(a.reserve(t, 3600, pace, next()), Reservation::Counted { .. }), "at {t}");
            t += 60;
        }
    }

    #[test]
    fn concurrent_reservations_at_one_instant_get_only_the_free_attempts() {
        let mut a = Attempts::default();
        let pace = Limit::Pace { free: 5, cap: 900 };
        let counted = ids(50).filter(|id| matches!(a.reserve(7, 3600, pace, id.clone()), Reservation::Counted { .. })).count();
        assert_eq!(counted, 5);
    }
}
