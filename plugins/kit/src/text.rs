//! Durations and numbers as drop reasons show them: `10m`, `1h30m`,
//! `950,000`. Both are [`Display`](fmt::Display) wrappers, so a reason is
//! formatted straight into the verdicts' reasons with no intermediate
//! strings.

use std::fmt;

/// The units a duration is written in, largest first, with their length in
/// milliseconds: the same units the configuration accepts.
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// A duration in milliseconds, shown in the largest units that divide it
/// exactly, as the configuration writes it: `250ms`, `90s` is `1m30s`,
/// `10m`, `1h30m`, `1d`. Zero is `0s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub u64);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

/// A whole number with a comma between groups of three digits: `950,000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thousands(pub u64);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // u64::MAX has 20 digits and so 6 commas. The text is written from
        // the right into a buffer and handed over in one `write_str`, since a
        // reason is formatted for every dropped tick.
        //
        // Inside a component, dividing a u64 by a constant is a real
        // division (WebAssembly has no 64-bit multiply-high to turn it into
        // a multiplication), dozens of cycles each. So the number is split
        // into groups of three digits with one division per group, and with
        // 32-bit arithmetic, which has no such cost, as soon as it fits.
        let mut text = [0u8; 26];
        let mut start = text.len();
        let mut rest = self.0;
        loop {
            let (mut group, more) = match u32::try_from(rest) {
                Ok(small) => (small % 1000, u64::from(small / 1000)),
                Err(_) => ((rest % 1000) as u32, rest / 1000),
            };
            rest = more;
            // The leading group has no zeros in front; the others have three
            // digits each, and a comma before them.
            let digits = if rest == 0 {
                group.max(1).ilog10() + 1
            } else {
                3
            };
            for _ in 0..digits {
                start -= 1;
                text[start] = b'0' + (group % 10) as u8;
                group /= 10;
            }
            if rest == 0 {
                break;
            }
            start -= 1;
            text[start] = b',';
        }
        let text = std::str::from_utf8(&text[start..]).expect("digits and commas are ASCII");
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_exact_units() {
        let cases = [
            (0, "0s"),
            (1, "1ms"),
            (250, "250ms"),
            (1_000, "1s"),
            (1_500, "1s500ms"),
            (42_000, "42s"),
            (90_000, "1m30s"),
            (600_000, "10m"),
            (3_600_000, "1h"),
            (5_400_000, "1h30m"),
            (86_400_000, "1d"),
            (90_061_001, "1d1h1m1s1ms"),
        ];
        for (ms, text) in cases {
            assert_eq!(Millis(ms).to_string(), text, "{ms}ms");
        }
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        let cases = [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1_000, "1,000"),
            (950_000, "950,000"),
            (1_000_000, "1,000,000"),
            (12_345_678, "12,345,678"),
            (100_020_003, "100,020,003"),
            (4_294_967_295, "4,294,967,295"),
            (4_294_967_296, "4,294,967,296"),
            (1_000_000_000_000_001, "1,000,000,000,000,001"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ];
        for (n, text) in cases {
            assert_eq!(Thousands(n).to_string(), text);
        }
    }
}
