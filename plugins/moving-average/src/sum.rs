//! A running sum that can add and subtract prices millions of times without
//! drifting: Neumaier's compensated summation.
//!
//! A moving average adds each price as its tick enters the window and
//! subtracts it as it leaves. With a plain `f64`, every step rounds, the
//! errors do not cancel, and after a few million steps the sum has wandered
//! visibly from the prices actually in the window (the unit test below
//! shows a drift of several millionths). A compensated sum keeps what each
//! step rounded away in a second `f64` and adds it back when read, so the
//! error stays within a few ulps of the window's sum however long it runs.

use serde::{Deserialize, Serialize};

/// A sum with the rounding error of its steps carried alongside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CompensatedSum {
    sum: f64,
    /// What `sum` has lost to rounding so far.
    compensation: f64,
}

impl CompensatedSum {
    /// An empty sum: exactly zero, with nothing to compensate.
    pub const ZERO: Self = Self {
        sum: 0.0,
        compensation: 0.0,
    };

    /// Adds `x`.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let total = self.sum + x;
        // The low bits of the smaller operand are what `total` rounded away;
        // this recovers them exactly (Neumaier's variant of Kahan, which
        // also holds when `x` is larger than the sum so far).
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - total) + x
        } else {
            (x - total) + self.sum
        };
        self.sum = total;
    }

    /// Subtracts `x`.
    #[inline]
    pub fn sub(&mut self, x: f64) {
        self.add(-x);
    }

    /// The sum.
    #[inline]
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_recovers_what_a_plain_sum_rounds_away() {
        let mut sum = CompensatedSum::ZERO;

        sum.add(1e16);
        sum.add(1.0);
        sum.add(1.0);
        sum.sub(1e16);

        assert_eq!(1e16 + 1.0 + 1.0 - 1e16, 0.0, "the plain sum loses both");
        assert_eq!(sum.value(), 2.0);
    }

    #[test]
    fn a_sliding_sum_does_not_drift_over_a_million_steps() {
        // A window of three prices of very different sizes slides over a
        // million ticks; at every step the running sum must match the sum
        // of the three prices in it, computed afresh.
        const STEPS: usize = 1_000_000;
        const WIDTH: usize = 3;
        let prices = [0.1, 1e6 + 0.3, 123.456, 7.77, 99_999.99, 1.0 / 3.0, 0.07];
        let price = |i: usize| prices[i % prices.len()] + (i % 11) as f64 * 0.001;

        let mut sum = CompensatedSum::ZERO;
        let mut plain = 0.0;
        let mut plain_drift: f64 = 0.0;
        for i in 0..STEPS {
            sum.add(price(i));
            plain += price(i);
            if i >= WIDTH {
                sum.sub(price(i - WIDTH));
                plain -= price(i - WIDTH);

                let fresh = price(i - 2) + price(i - 1) + price(i);
                // One ulp of the largest price, as `fresh` itself rounds.
                assert!((sum.value() - fresh).abs() <= 1.2e-10, "step {i}");
                plain_drift = plain_drift.max((plain - fresh).abs());
            }
        }

        assert!(plain_drift > 1e-6, "a plain sum drifts by {plain_drift:e}");
    }
}
