//! Number formatting shared by the text report and the UI.

/// `12,345,678`
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `1.5 GB`, `340.2 MB`, `12.0 KB`, `999 B` (powers of 1024, as the JVM's tools count).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `12.3%`: `part` as a share of `whole`, never above 100% (a part larger than its whole,
/// e.g. on a truncated dump, shows as 100.0%). Say of what next to it (see [`percent_of`]).
pub fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", share(part, whole))
}

/// `12.3% of the live heap`: the share and what it is a share of.
pub fn percent_of(part: u64, whole: u64, of_what: &str) -> String {
    format!("{} of {of_what}", percent(part, whole))
}

/// `part` as a percentage of `whole`, within 0..=100 (0 for an empty whole).
pub fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 100.0 / whole as f64).min(100.0)
}

/// A percentage computed elsewhere, kept within 0..=100 (NaN becomes 0).
pub fn clamp_percent(p: f64) -> f64 {
    if p.is_nan() {
        0.0
    } else {
        p.clamp(0.0, 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12345678), "12,345,678");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(3 << 30), "3.0 GB");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(5, 0), "0.0%");
        assert_eq!(percent(9_672_350, 10_000), "100.0%");
        assert_eq!(percent_of(1, 4, "the dump"), "25.0% of the dump");
        assert_eq!(clamp_percent(96723.5), 100.0);
        assert_eq!(clamp_percent(f64::NAN), 0.0);
    }
}
