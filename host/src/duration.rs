//! Durations as people write them in tickhost's configuration: `250ms`,
//! `90s`, `10m`, `2h`, `1d`, or a sum of parts such as `1h30m`.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid duration {input:?}: {why} (write it as 250ms, 90s, 10m, 2h or 1d)")]
pub struct DurationError {
    input: String,
    why: &'static str,
}

const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a duration such as `10m` or `1h30m`.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = |why| DurationError {
        input: input.to_string(),
        why,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(err("it is empty"));
    }

    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(err("a number must come before each unit"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| err("the number is too large"))?;
        rest = &rest[digits..];

        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let Some(&(_, millis)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(err(if unit.is_empty() {
                "a unit is missing"
            } else {
                "the unit is not one of ms, s, m, h, d"
            }));
        };
        rest = &rest[unit_len..];

        total = number
            .checked_mul(millis)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| err("the number is too large"))?;
    }
    Ok(Duration::from_millis(total))
}

/// Formats a duration in the largest units that fit exactly: `10m`, `1h30m`,
/// `1500ms` becomes `1s500ms`. Zero is `0s`.
pub fn format(duration: Duration) -> String {
    let mut millis = duration.as_millis() as u64;
    if millis == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (name, size) in UNITS {
        if millis >= size {
            out.push_str(&format!("{}{name}", millis / size));
            millis %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit_and_sums() {
        let ms = |s| parse(s).unwrap().as_millis();
        assert_eq!(ms("250ms"), 250);
        assert_eq!(ms("90s"), 90_000);
        assert_eq!(ms("10m"), 600_000);
        assert_eq!(ms("2h"), 7_200_000);
        assert_eq!(ms("1d"), 86_400_000);
        assert_eq!(ms("1h30m"), 5_400_000);
        assert_eq!(ms(" 0s "), 0);
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "10",
            "m",
            "10x",
            "1.5m",
            "-1s",
            "10 m",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(
            parse("10")
                .unwrap_err()
                .to_string()
                .contains("a unit is missing")
        );
    }

    #[test]
    fn formats_in_exact_units() {
        let f = |ms| format(Duration::from_millis(ms));
        assert_eq!(f(600_000), "10m");
        assert_eq!(f(5_400_000), "1h30m");
        assert_eq!(f(1_500), "1s500ms");
        assert_eq!(f(0), "0s");
        assert_eq!(f(86_400_000), "1d");
    }

    #[test]
    fn format_then_parse_is_identity() {
        for ms in [1, 999, 1_000, 61_001, 86_400_001, 3_723_004] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse(&format(d)).unwrap(), d);
        }
    }
}
