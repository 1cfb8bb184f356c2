//! The out-of-order rule that the stateful plugins share, so that they drop
//! the same ticks with the same reason.
//!
//! A rule that keeps a window per symbol needs each symbol's ticks in event
//! time order: a tick older than the newest one already seen for its symbol
//! would have to be inserted into the past of the window. Such a tick is
//! dropped instead, with the reason `out of order by 42s` (how far it is
//! behind the newest). A tick with the same timestamp as the newest is in
//! order.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Millis;

/// The newest event time seen for one symbol.
///
/// Every tick that reaches the rule and is in order advances it, whatever
/// the rule then decides about the tick; an out-of-order tick leaves it as
/// it was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Order {
    newest: Option<i64>,
}

impl Order {
    /// Accepts a tick at `ts` if it is not older than the newest tick seen,
    /// and makes it the newest.
    #[inline]
    pub fn check(&mut self, ts: i64) -> Result<(), OutOfOrder> {
        match self.newest {
            Some(newest) if ts < newest => Err(OutOfOrder {
                lag_ms: newest.abs_diff(ts),
            }),
            _ => {
                self.newest = Some(ts);
                Ok(())
            }
        }
    }

    /// The newest event time seen, if any tick was.
    pub fn newest(&self) -> Option<i64> {
        self.newest
    }
}

/// A tick that came after a newer one of its symbol. Its `Display` is the
/// drop reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfOrder {
    /// How far the tick is behind the newest one, in milliseconds.
    pub lag_ms: u64,
}

impl fmt::Display for OutOfOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "out of order by {}", Millis(self.lag_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_tick_is_in_order() {
        let mut order = Order::default();

        assert_eq!(order.check(i64::MIN), Ok(()));
        assert_eq!(order.newest(), Some(i64::MIN));
    }

    #[test]
    fn an_older_tick_is_out_of_order_by_its_lag() {
        let mut order = Order::default();
        order.check(100_000).unwrap();

        let late = order.check(58_000).unwrap_err();

        assert_eq!(late, OutOfOrder { lag_ms: 42_000 });
        assert_eq!(late.to_string(), "out of order by 42s");
        assert_eq!(
            order.newest(),
            Some(100_000),
            "a late tick does not move it"
        );
    }

    #[test]
    fn an_equal_timestamp_is_in_order() {
        let mut order = Order::default();
        order.check(5).unwrap();

        assert_eq!(order.check(5), Ok(()));
        assert_eq!(order.check(6), Ok(()));
        assert_eq!(order.check(5), Err(OutOfOrder { lag_ms: 1 }));
    }

    #[test]
    fn the_lag_does_not_overflow() {
        let mut order = Order::default();
        order.check(i64::MAX).unwrap();

        assert_eq!(order.check(i64::MIN), Err(OutOfOrder { lag_ms: u64::MAX }));
    }

    #[test]
    fn it_serializes_as_the_bare_timestamp() {
        let mut order = Order::default();
        assert_eq!(serde_json::to_string(&order).unwrap(), "null");

        order.check(1_700_000_000_000).unwrap();

        assert_eq!(serde_json::to_string(&order).unwrap(), "1700000000000");
        assert_eq!(
            serde_json::from_str::<Order>("1700000000000").unwrap(),
            order
        );
    }
}
