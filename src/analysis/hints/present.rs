//! Hints as people read them: every number with a label in words and its unit, dates as
//! dates, durations as durations. The keys of `Hint::numbers` stay for programs (`--json`).

use std::collections::BTreeMap;

use super::Fact;
use crate::format::{bytes, thousands};

/// How a number is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Count,
    Bytes,
    /// Milliseconds since 1970-01-01 UTC.
    Date,
    Seconds,
    Millis,
}

/// Label and unit of each key the rules use; unknown keys are shown with their words.
fn label(key: &str) -> (&'static str, Unit) {
    use Unit::*;
    match key {
        "accumulated_bytes" => ("Held by the accumulation point", Bytes),
        "accumulated_objects" => ("Objects at the accumulation point", Count),
        "arrays" => ("Arrays", Count),
        "bits_reserved_memory" => ("Direct memory reserved (java.nio.Bits)", Bytes),
        "buffers" => ("Direct buffers owning memory", Count),
        "bytes" => ("Size", Bytes),
        "capacity_bytes" => ("Capacity of those buffers", Bytes),
        "distinct_duplicated" => ("Distinct values stored more than once", Count),
        "dump_timestamp_ms" => ("Dump taken", Date),
        "duplicated_classes" => ("Class names defined more than once", Count),
        "estimated_native_bytes" => ("Native memory (estimated)", Bytes),
        "expired" => ("Past their timeout at the dump's time", Count),
        "garbage_bytes" => ("Unreachable sessions with their attributes", Bytes),
        "in_manager_maps" => ("In the session managers' maps", Count),
        "instances" => ("Instances", Count),
        "invalid" => ("Invalidated (isValid = false)", Count),
        "loaders" => ("Loaders of this class", Count),
        "max_bytes" => ("javacpp maxBytes", Bytes),
        "max_direct_memory" => ("Direct memory limit", Bytes),
        "max_inactive_interval_s" => ("Session timeout (maxInactiveInterval)", Seconds),
        "max_physical_bytes" => ("javacpp maxPhysicalBytes", Bytes),
        "not_ended" => ("Not ended (own native memory)", Count),
        "not_ended_reachable" => ("Not ended, reachable", Count),
        "not_ended_unreachable" => ("Not ended, unreachable", Count),
        "oldest_idle_ms" => ("Longest idle session, idle for", Millis),
        "owner_instances" => ("Client objects in the dump", Count),
        "owner_instances_reachable" => ("Client objects still reachable", Count),
        "owning" => ("Owning native memory", Count),
        "pending" => ("Waiting for finalization", Count),
        "pins" => ("References that pin the loaders", Count),
        "pointers" => ("Pointers", Count),
        "reachable" => ("Reachable (live)", Count),
        "reachable_bytes" => ("Live heap", Bytes),
        "reachable_capacity_bytes" => ("Capacity of reachable buffers", Bytes),
        "reachable_expired" => ("Live but past their timeout", Count),
        "reachable_retained_bytes" => ("Retained by the reachable ones", Bytes),
        "registered" => ("Registered for finalization", Count),
        "retained_bytes" => ("Retained", Bytes),
        "sessions" => ("Sessions in the dump", Count),
        "stopped" => ("Stopped (undeployed)", Count),
        "stopped_reachable" => ("Stopped but still reachable", Count),
        "suspect_accumulated_objects" => ("Objects at the suspect's accumulation point", Count),
        "suspect_retained_bytes" => ("Retained by the leak suspect", Bytes),
        "threads" => ("Threads", Count),
        "total_threads" => ("Threads in the dump", Count),
        "unreachable" => ("Unreachable", Count),
        "unreachable_bytes" => ("Unreachable", Bytes),
        "unreachable_capacity_bytes" => ("Capacity of unreachable buffers", Bytes),
        "unreachable_objects" => ("Unreachable objects", Count),
        "valid" => ("Valid", Count),
        "values" => ("Values", Count),
        "wasted_bytes" => ("Wasted", Bytes),
        _ if key.ends_with("_bytes") => ("", Bytes),
        _ => ("", Count),
    }
}

/// `accumulated_bytes` → `Accumulated bytes`, for keys without a label.
fn words(key: &str) -> String {
    let mut s = key.replace('_', " ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

/// The numbers of a hint as labelled facts, in the order of the table above's importance:
/// bytes and counts as they come (sorted by label).
pub fn facts(numbers: &BTreeMap<String, u64>) -> Vec<Fact> {
    let mut out: Vec<Fact> = numbers
        .iter()
        .map(|(k, &v)| {
            let (label, unit) = label(k);
            let value = match unit {
                Unit::Count => thousands(v),
                Unit::Bytes => bytes(v),
                Unit::Date => date_time(v),
                Unit::Seconds => duration_ms(v.saturating_mul(1000)),
                Unit::Millis => duration_ms(v),
            };
            Fact {
                label: if label.is_empty() {
                    words(k)
                } else {
                    label.to_string()
                },
                value,
            }
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Milliseconds since the epoch as `2026-11-30 05:12 UTC`; 0 (not recorded) as `unknown`.
pub fn date_time(ms: u64) -> String {
    if ms == 0 {
        return "unknown".into();
    }
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60
    )
}

/// `2 h 5 min`, `30 min`, `45 s`, `3 days 4 h`.
pub fn duration_ms(ms: u64) -> String {
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) if s == 0 => format!("{ms} ms"),
        (0, 0, 0) => format!("{sec} s"),
        (0, 0, _) if sec == 0 => format!("{m} min"),
        (0, 0, _) => format!("{m} min {sec} s"),
        (0, _, 0) => format!("{h} h"),
        (0, _, _) => format!("{h} h {m} min"),
        (1, 0, _) => "1 day".into(),
        (1, _, _) => format!("1 day {h} h"),
        (_, 0, _) => format!("{d} days"),
        _ => format!("{d} days {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations() {
        assert_eq!(date_time(0), "unknown");
        assert_eq!(date_time(1_000), "1970-01-01 00:00 UTC");
        // 2026-11-30 05:12:00 UTC
        assert_eq!(date_time(1_796_015_520_000), "2026-11-30 05:12 UTC");
        assert_eq!(date_time(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(duration_ms(1800 * 1000), "30 min");
        assert_eq!(duration_ms(7_200_000 + 300_000), "2 h 5 min");
        assert_eq!(duration_ms(45_000), "45 s");
        assert_eq!(duration_ms(90_061_000), "1 day 1 h");
        assert_eq!(duration_ms(12), "12 ms");
    }

    #[test]
    fn facts_have_words() {
        let mut n = BTreeMap::new();
        n.insert("accumulated_bytes".to_string(), 2048);
        n.insert("dump_timestamp_ms".to_string(), 1_796_015_520_000);
        n.insert("some_new_count".to_string(), 12_345);
        let f = facts(&n);
        assert!(f.iter().all(|f| !f.label.contains('_')), "{f:?}");
        assert!(f.contains(&Fact {
            label: "Dump taken".into(),
            value: "2026-11-30 05:12 UTC".into()
        }));
        assert!(f.contains(&Fact {
            label: "Held by the accumulation point".into(),
            value: "2.0 KB".into()
        }));
        assert!(f.contains(&Fact {
            label: "Some new count".into(),
            value: "12,345".into()
        }));
    }
}
