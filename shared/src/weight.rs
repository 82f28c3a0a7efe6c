//! Weights and percentages as the engine counts them: whole thousandths of
//! a percent, so three decimals are exact and 100 % is the number of
//! buckets ([`Weight::ALL`], what [`crate::bucket`] divides users into).
//! One type for a rollout's weights and the `percent` op's values: read from
//! a file ([`Weight::from_number`]), read as a person types it
//! ([`Weight::from_text`]), written back ([`Weight::to_number`]) and shown
//! ([`fmt::Display`], [`format_thousandths`]).

use std::fmt;

use serde_json::Number;

/// A share of users in thousandths of a percent (`33.333 %` is 33,333),
/// from 0 to [`Weight::ALL`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(u32);

impl Weight {
    /// 0 %.
    pub const NONE: Weight = Weight(0);
    /// 100 %: every bucket.
    pub const ALL: Weight = Weight(100_000);

    /// The weight of `thousandths` of a percent, when at most [`Weight::ALL`].
    pub fn from_thousandths(thousandths: u32) -> Option<Weight> {
        (thousandths <= Weight::ALL.0).then_some(Weight(thousandths))
    }

    /// The weight of `thousandths`, at most [`Weight::ALL`].
    pub fn saturating(thousandths: u32) -> Weight {
        Weight(thousandths.min(Weight::ALL.0))
    }

    /// Thousandths of a percent.
    pub const fn thousandths(self) -> u32 {
        self.0
    }

    /// A weight or percentage as a file writes it: a number from 0 to 100
    /// with at most 3 decimals. The error says what is wrong with it.
    pub fn from_number(n: &Number) -> Result<Weight, String> {
        let x = n.as_f64().unwrap_or(f64::NAN);
        if !(0.0..=100.0).contains(&x) {
            return Err(format!("{n} is not a percentage between 0 and 100"));
        }
        let milli = x * 1000.0;
        let rounded = milli.round();
        if (milli - rounded).abs() > 1e-6 {
            return Err(format!("{n} has more than 3 decimals (the finest step is 0.001 %)"));
        }
        Ok(Weight(rounded as u32))
    }

    /// A number as a weight for showing it, whatever it is: rounded to
    /// thousandths and clamped to 0–100; `None` when it is not a number.
    pub fn nearest(n: &Number) -> Option<Weight> {
        let w = n.as_f64()?;
        // Clamped first, so the cast cannot overflow.
        Some(Weight((w * 1000.0).round().clamp(0.0, f64::from(Weight::ALL.0)) as u32))
    }

    /// A weight as a person types it (`34`, `33.333`, `12.5`, `010`): a
    /// decimal number from 0 to 100 with at most 3 decimals, read exactly
    /// (no floating point). The error says what is wrong with the text.
    pub fn from_text(text: &str) -> Result<Weight, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("type a percentage from 0 to 100".to_owned());
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.starts_with('-') && (digits(&whole[1..]) || whole.len() == 1) {
            return Err(format!("`{text}` is not a percentage between 0 and 100"));
        }
        if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || text.ends_with('.') {
            return Err(format!("`{text}` is not a number"));
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 3 {
            return Err(format!("`{text}` has more than 3 decimals (the finest step is 0.001 %)"));
        }
        let whole = whole.trim_start_matches('0');
        let whole: u32 = if whole.is_empty() {
            0
        } else if whole.len() > 3 {
            u32::MAX
        } else {
            whole.parse().unwrap_or(u32::MAX)
        };
        let fraction: u32 = format!("{fraction:0<3}").parse().unwrap_or(0);
        whole
            .checked_mul(1000)
            .and_then(|w| w.checked_add(fraction))
            .and_then(Weight::from_thousandths)
            .ok_or_else(|| format!("`{text}` is not a percentage between 0 and 100"))
    }

    /// The weight as a file writes it: an integer when whole (`10`), else
    /// with up to 3 decimals (`33.333`, `12.5`).
    pub fn to_number(self) -> Number {
        let (whole, frac) = (self.0 / 1000, self.0 % 1000);
        if frac == 0 {
            return Number::from(whole);
        }
        // A decimal literal of digits always parses as a JSON number.
        self.to_string().parse::<Number>().unwrap_or_else(|_| Number::from(whole))
    }
}

impl fmt::Display for Weight {
    /// `33.333`, `90`, `12.5`: as a person writes a percentage (no `%`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_thousandths(u64::from(self.0)))
    }
}

/// Thousandths of a percent as a person writes the percentage, for sums that
/// may pass 100 (`100500` → `100.5`).
pub fn format_thousandths(thousandths: u64) -> String {
    let s = format!("{}.{:03}", thousandths / 1000, thousandths % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(x: f64) -> Number {
        Number::from_f64(x).unwrap()
    }

    #[test]
    fn a_file_writes_percentages_with_at_most_three_decimals() {
        assert_eq!(Weight::from_number(&number(33.333)), Ok(Weight(33_333)));
        assert_eq!(Weight::from_number(&Number::from(100)), Ok(Weight::ALL));
        assert!(Weight::from_number(&number(100.001)).unwrap_err().contains("between 0 and 100"));
        assert!(Weight::from_number(&Number::from(-1)).is_err());
        assert!(Weight::from_number(&number(1.0005)).unwrap_err().contains("more than 3 decimals"));
    }

    #[test]
    fn weights_are_written_back_and_shown_as_typed() {
        assert_eq!(Weight(10_000).to_number().to_string(), "10");
        assert_eq!(Weight(33_333).to_number().to_string(), "33.333");
        assert_eq!(Weight(12_500).to_number().to_string(), "12.5");
        assert_eq!(Weight(1).to_number().to_string(), "0.001");
        assert_eq!(Weight::nearest(&Weight(66_667).to_number()), Some(Weight(66_667)));
        assert_eq!(Weight::nearest(&number(250.0)), Some(Weight::ALL));
        assert_eq!(Weight(99_999).to_string(), "99.999");
        assert_eq!(format_thousandths(90_000), "90");
        assert_eq!(format_thousandths(100_500), "100.5");
    }

    #[test]
    fn typed_weights_are_read_exactly() {
        let t = |s: &str| Weight::from_text(s).map(Weight::thousandths);
        assert_eq!(t("34"), Ok(34_000));
        assert_eq!(t(" 33.333 "), Ok(33_333));
        assert_eq!(t("010"), Ok(10_000), "leading zeros, as a person types");
        assert_eq!(t("12.50"), Ok(12_500));
        assert_eq!(t("0.001"), Ok(1));
        assert_eq!(t("100.000"), Ok(100_000));
        assert_eq!(t("abc"), Err("`abc` is not a number".to_owned()));
        assert!(t("1e2").unwrap_err().contains("not a number"));
        assert!(t("5.").unwrap_err().contains("not a number"));
        assert!(t("100.001").unwrap_err().contains("between 0 and 100"));
        assert!(t("99999999999").unwrap_err().contains("between 0 and 100"));
        assert!(t("101").unwrap_err().contains("between 0 and 100"));
        assert!(t("-1").unwrap_err().contains("between 0 and 100"));
        assert!(t("1.0005").unwrap_err().contains("more than 3 decimals"));
        assert!(t("").is_err());
    }
}
