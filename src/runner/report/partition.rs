//! `--partition K/N`: run the K-th of N deterministic parts of the test
//! files (the scheduler decides which files; `merge` joins the parts).

use anyhow::{Result, bail};

/// Parse `K/N` with 1 <= K <= N.
pub fn parse_partition(s: &str) -> Result<(u32, u32)> {
    let usage = || format!("invalid partition `{s}`: expected K/N with 1 <= K <= N, e.g. 2/4");
    let Some((k, n)) = s.trim().split_once('/') else {
        bail!(usage());
    };
    let parse = |x: &str| -> Option<u32> {
        let x = x.trim();
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        x.parse().ok()
    };
    match (parse(k), parse(n)) {
        (Some(k), Some(n)) if 1 <= k && k <= n => Ok((k, n)),
        _ => bail!(usage()),
    }
}

/// `K/N`.
pub fn format_partition((k, n): (u32, u32)) -> String {
    format!("{k}/{n}")
}

/// `--partition K/N`, checked when parsed: part `K` (from 1) of `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which part, from 1.
    pub k: u32,
    /// How many parts.
    pub n: u32,
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = parse_partition(s).map_err(|e| e.to_string())?;
        Ok(Partition { k, n })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl From<Partition> for (u32, u32) {
    fn from(p: Partition) -> Self {
        (p.k, p.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid() {
        assert_eq!(parse_partition("1/1").unwrap(), (1, 1));
        assert_eq!(parse_partition("2/4").unwrap(), (2, 4));
        assert_eq!(parse_partition(" 4 / 4 ").unwrap(), (4, 4));
        assert_eq!(format_partition((2, 4)), "2/4");
    }

    #[test]
    fn invalid() {
        for bad in [
            "",
            "1",
            "0/4",
            "5/4",
            "1/0",
            "-1/4",
            "+1/4",
            "a/b",
            "1/4/5",
            "1.0/4",
            "99999999999/99999999999",
        ] {
            let err = parse_partition(bad).unwrap_err().to_string();
            assert!(err.contains("expected K/N"), "{bad}: {err}");
        }
    }
}
