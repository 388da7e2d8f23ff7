//! Throughput statistics: what a run read, how fast, and the shape of what
//! it saw (packet sizes, flow durations) as hdrhistogram distributions.
//!
//! Printed to standard error by `--stats`; never mixed into the records.

use hdrhistogram::Histogram;
use std::fmt::Write as _;

/// A mergeable distribution of non-negative integers (3 significant digits).
#[derive(Debug, Clone)]
pub struct Histo(Histogram<u64>);

impl Default for Histo {
    fn default() -> Self {
        Histo::new()
    }
}

impl Histo {
    /// An empty distribution that auto-resizes to any value.
    pub fn new() -> Histo {
        // Three significant figures is a constant, valid configuration: this cannot fail.
        let h = Histogram::new(3).expect("hdrhistogram accepts 3 significant figures");
        Histo(h)
    }

    /// Adds one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        // Auto-resize is on, so recording only fails for values beyond
        // u64 range of the internal buckets; saturate instead.
        if self.0.record(v).is_err() {
            let _ = self.0.record(self.0.high());
        }
    }

    /// Folds another distribution into this one.
    pub fn merge(&mut self, other: &Histo) {
        let _ = self.0.add(&other.0);
    }

    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value at quantile `q` (0.0 to 1.0).
    pub fn quantile(&self, q: f64) -> u64 {
        self.0.value_at_quantile(q)
    }

    /// The largest value recorded.
    pub fn max(&self) -> u64 {
        self.0.max()
    }

    /// `p50 A  p90 B  p99 C  max D` with values formatted by `fmt`.
    pub fn summary(&self, fmt: impl Fn(u64) -> String) -> String {
        if self.is_empty() {
            return "none".into();
        }
        format!(
            "p50 {}  p90 {}  p99 {}  max {}",
            fmt(self.quantile(0.5)),
            fmt(self.quantile(0.9)),
            fmt(self.quantile(0.99)),
            fmt(self.max())
        )
    }
}

/// Formats a byte count with a binary unit.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS.get(u).unwrap_or(&"B"))
    }
}

/// Formats microseconds as a short duration.
pub fn human_micros(us: u64) -> String {
    if us < 1000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// Formats a rate per second.
pub fn human_rate(count: f64, secs: f64) -> String {
    if secs <= 0.0 {
        return "-".into();
    }
    let r = count / secs;
    if r >= 1e9 {
        format!("{:.2}G", r / 1e9)
    } else if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

/// Appends a `label: value` line, aligned.
pub fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "  {label:<22} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histo_quantiles_and_merge() {
        let mut a = Histo::new();
        let mut b = Histo::new();
        for v in 1..=50 {
            a.record(v);
        }
        for v in 51..=100 {
            b.record(v);
        }
        a.merge(&b);
        assert_eq!(a.len(), 100);
        assert_eq!(a.quantile(0.5), 50);
        assert_eq!(a.max(), 100);
        assert_eq!(a.quantile(0.99), 99);
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_micros(1500), "1.5ms");
        assert_eq!(human_rate(3_700_000.0, 1.0), "3.70M");
    }
}
