//! HTTP sessions piling up: Tomcat's `StandardSession` (and similar session classes) by
//! count, how many are still valid, how many are past their `maxInactiveInterval` at the
//! dump's timestamp, and what holds them: the manager's `sessions` map, or nothing (garbage).

use super::{evidence, hint, owner, present, Category, Certainty, Hint, Stake};
use crate::analysis::graph::ReferenceReader;
use crate::analysis::java::{self, Fields};
use crate::analysis::Analysis;
use crate::format::{bytes, thousands};
use crate::heap::ObjectId;

/// Session classes (and their subclasses, e.g. Tomcat's `DeltaSession`).
pub const SESSION_CLASSES: &[&str] = &[
    "org.apache.catalina.session.StandardSession",
    "org.eclipse.jetty.server.session.Session",
    "io.undertow.server.session.InMemorySessionManager$SessionImpl",
    "org.springframework.session.MapSession",
];

/// Session managers whose `sessions` map holds the live sessions.
pub const MANAGER_CLASSES: &[&str] = &[
    "org.apache.catalina.session.ManagerBase",
    "org.eclipse.jetty.server.session.AbstractSessionCache",
];

/// Fewer sessions than this are never worth a hint.
pub const MIN_SESSIONS: u64 = 100;

/// One session's state at the dump's time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionState {
    pub reachable: bool,
    /// `isValid` (true when the field is absent).
    pub valid: bool,
    /// Idle longer than `maxInactiveInterval` at the dump's timestamp.
    pub expired: bool,
}

/// Tomcat's rule: idle time (now - thisAccessedTime) ≥ maxInactiveInterval seconds, when > 0.
pub fn is_expired(now_ms: u64, last_access_ms: i64, max_inactive_s: i64) -> bool {
    max_inactive_s > 0
        && last_access_ms > 0
        && (now_ms as i64).saturating_sub(last_access_ms) >= max_inactive_s * 1000
}

/// Counts over all sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    pub total: u64,
    pub reachable: u64,
    pub unreachable: u64,
    pub valid: u64,
    pub expired: u64,
    pub reachable_expired: u64,
    pub unreachable_invalid_or_expired: u64,
}

impl SessionCounts {
    pub fn add(&mut self, s: SessionState) {
        self.total += 1;
        if s.reachable {
            self.reachable += 1;
            if s.expired {
                self.reachable_expired += 1;
            }
        } else {
            self.unreachable += 1;
            if !s.valid || s.expired {
                self.unreachable_invalid_or_expired += 1;
            }
        }
        if s.valid {
            self.valid += 1;
        }
        if s.expired {
            self.expired += 1;
        }
    }
}

/// Which story the counts tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Mostly unreachable: garbage not yet collected, not a leak.
    Garbage,
    /// Reachable but past their timeout: expiry is not running or something else holds them.
    ExpiredButHeld,
    /// Many live sessions.
    ManyLive,
}

pub fn verdict(c: &SessionCounts) -> Option<Verdict> {
    if c.total < MIN_SESSIONS {
        return None;
    }
    if c.unreachable * 2 >= c.total {
        Some(Verdict::Garbage)
    } else if c.reachable_expired >= MIN_SESSIONS && c.reachable_expired * 2 >= c.reachable {
        Some(Verdict::ExpiredButHeld)
    } else if c.reachable >= MIN_SESSIONS * 10 {
        Some(Verdict::ManyLive)
    } else {
        None
    }
}

fn state(a: &Analysis, o: ObjectId, now_ms: u64) -> SessionState {
    let f = Fields::of(&a.index, o);
    let valid = f.boolean("isValid").unwrap_or(true);
    let last = f
        .int("thisAccessedTime")
        .or_else(|| f.int("lastAccessedTime"))
        .unwrap_or(0);
    let max = f.int("maxInactiveInterval").unwrap_or(-1);
    SessionState {
        reachable: a.dominators.is_reachable(o),
        valid,
        expired: is_expired(now_ms, last, max),
    }
}

/// Bytes of the unreachable objects reachable from `starts` through unreachable objects only.
fn garbage_closure(a: &Analysis, starts: &[ObjectId]) -> u64 {
    let index = &a.index;
    let references = ReferenceReader::new(index);
    let mut seen = vec![false; index.object_count()];
    let mut stack: Vec<ObjectId> = Vec::new();
    let mut total = 0u64;
    for &s in starts {
        if !seen[s as usize] {
            seen[s as usize] = true;
            stack.push(s);
        }
        while let Some(v) = stack.pop() {
            total += index.shallow_size(v);
            references.for_each(v, |t, weak| {
                if !weak && !seen[t as usize] && !a.dominators.is_reachable(t) {
                    seen[t as usize] = true;
                    stack.push(t);
                }
            });
        }
    }
    total
}

/// Which part of the sessions is a problem, if any: the live ones (held past their timeout,
/// or very many), and the unreachable ones (garbage, never a leak).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub live: Option<Verdict>,
    pub garbage: bool,
}

pub fn parts(c: &SessionCounts) -> Parts {
    let live = if c.reachable_expired >= MIN_SESSIONS && c.reachable_expired * 2 >= c.reachable {
        Some(Verdict::ExpiredButHeld)
    } else if c.reachable >= MIN_SESSIONS * 10 {
        Some(Verdict::ManyLive)
    } else {
        None
    };
    Parts {
        live,
        garbage: c.unreachable >= MIN_SESSIONS,
    }
}

/// The most common positive value, for the session timeout.
fn most_common(values: impl Iterator<Item = i64>) -> Option<i64> {
    let mut v: Vec<i64> = values.filter(|&x| x > 0).collect();
    v.sort_unstable();
    v.chunk_by(|a, b| a == b)
        .max_by_key(|g| g.len())
        .map(|g| g[0])
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let sessions = java::instances_of(index, SESSION_CLASSES);
    if (sessions.len() as u64) < MIN_SESSIONS {
        return Vec::new();
    }
    let now = index.header().timestamp_ms;
    let states: Vec<SessionState> = {
        use rayon::prelude::*;
        sessions.par_iter().map(|&o| state(a, o, now)).collect()
    };
    let mut counts = SessionCounts::default();
    for &s in &states {
        counts.add(s);
    }
    let parts = parts(&counts);
    if parts.live.is_none() && !parts.garbage {
        return Vec::new();
    }
    let partial = super::partial_reachability(index).is_some();
    let class = java::class_name(index, sessions[0]).to_string();
    let simple = super::simple_name(&class).to_string();
    let timeout_s = most_common(sessions.iter().map(|&o| {
        Fields::of(index, o)
            .int("maxInactiveInterval")
            .unwrap_or(-1)
    }));
    let oldest_idle_ms = sessions
        .iter()
        .zip(&states)
        .filter(|(_, s)| s.reachable)
        .filter_map(|(&o, _)| {
            let f = Fields::of(index, o);
            let last = f
                .int("thisAccessedTime")
                .or_else(|| f.int("lastAccessedTime"))?;
            (last > 0).then(|| (now as i64).saturating_sub(last).max(0) as u64)
        })
        .max();

    // The managers, their maps and who holds them.
    let managers = java::instances_of(index, MANAGER_CLASSES);
    let mut in_maps = 0u64;
    let mut maps = Vec::new();
    for &m in &managers {
        if let Some(map) = index.field_object(m, "sessions") {
            let n = java::map_entries(index, map, usize::MAX).map_or(0, |e| e.len()) as u64;
            in_maps += n;
            maps.push((m, map, n));
        }
    }
    maps.sort_by_key(|&(_, _, n)| std::cmp::Reverse(n));
    let holders: Vec<String> = maps
        .iter()
        .filter(|&&(_, map, n)| n > 0 && tree.is_reachable(map))
        .take(3)
        .map(|&(m, _, _)| {
            let own = owner::owner(a, m);
            format!(
                "{}.sessions, held by {} ({})",
                super::simple_name(java::class_name(index, m)),
                own.text,
                owner::path_text(a, &own, 8)
            )
        })
        .collect();
    let held_by = if holders.is_empty() {
        "no session manager's map".to_string()
    } else {
        holders.join("; ")
    };
    let live: Vec<ObjectId> = sessions
        .iter()
        .copied()
        .filter(|&o| tree.is_reachable(o))
        .collect();
    let reachable_retained: u64 = live.iter().map(|&o| tree.retained(o)).sum();
    let garbage: Vec<ObjectId> = sessions
        .iter()
        .copied()
        .filter(|&o| !tree.is_reachable(o))
        .collect();
    let garbage_bytes = garbage_closure(a, &garbage);
    let timeout_text = timeout_s.map_or("no timeout".to_string(), |t| {
        format!("timeout {}", present::duration_ms(t as u64 * 1000))
    });
    let when = present::date_time(now);

    // The live part: how many, held by what, whether it is the problem.
    let live_text = format!(
        "{} of {} {simple} objects are live ({} in the managers' session maps; {held_by}); \
         {} of the live ones had been idle longer than the session timeout ({}) when the \
         dump was taken ({when}){}.",
        thousands(counts.reachable),
        thousands(counts.total),
        thousands(in_maps),
        thousands(counts.reachable_expired),
        timeout_s.map_or("none set".to_string(), |t| present::duration_ms(
            t as u64 * 1000
        )),
        oldest_idle_ms.map_or(String::new(), |ms| format!(
            ", the longest for {}",
            present::duration_ms(ms)
        )),
    );
    let garbage_text = if partial {
        format!(
            "{} are not reachable from what this incomplete dump holds ({} with their \
             attributes); reachability is partial, so whether they are garbage cannot be told.",
            thousands(counts.unreachable),
            bytes(garbage_bytes)
        )
    } else {
        format!(
            "{} are unreachable garbage ({} with their attributes; {} of them invalid or past \
             their timeout): the manager already expired and removed them and the collector \
             has not reclaimed them yet (typically promoted to the old generation, no \
             old-generation/full GC since). `jmap -histo` counts them; `jmap -histo:live` \
             would not. That part is not a leak.",
            thousands(counts.unreachable),
            bytes(garbage_bytes),
            thousands(counts.unreachable_invalid_or_expired)
        )
    };
    let garbage_fix = "For the unreachable sessions there is nothing to fix in the \
         application: the next full GC frees them. If the process's memory (RSS) stays high, \
         the heap grew and never shrinks: see the JVM advice (-XX:MinHeapFreeRatio / \
         -XX:MaxHeapFreeRatio, or -Xms equal to -Xmx on purpose). Shorter session timeouts and \
         not creating sessions for stateless requests (request.getSession(false)) reduce the \
         churn.";
    let (category, certainty, stake, retained, title, problem, fix) = match parts.live {
        Some(v) => {
            let (certainty, what, fix) = match v {
                Verdict::ExpiredButHeld => (
                    Certainty::Certain,
                    format!(
                        "{} live sessions are past their timeout yet still held",
                        thousands(counts.reachable_expired)
                    ),
                    format!(
                        "Make expiry run and let go of expired sessions: check that the \
                         container's background processor runs (Tomcat: \
                         backgroundProcessorDelay > 0, processExpiresFrequency), and that no \
                         code keeps sessions or managers in its own collections ({held_by})."
                    ),
                ),
                _ => (
                    Certainty::Likely,
                    format!(
                        "many live sessions, each keeping its attributes until it times out \
                         ({timeout_text})"
                    ),
                    format!(
                        "Shorten the session timeout ({timeout_text} now), avoid creating \
                         sessions for stateless or bot traffic (request.getSession(false)), \
                         and keep session attributes small; they are held by {held_by}."
                    ),
                ),
            };
            let garbage_title = if parts.garbage {
                format!(
                    "; {} more are {} (not the problem)",
                    thousands(counts.unreachable),
                    super::unreachable_words(a)
                )
            } else {
                String::new()
            };
            (
                Category::Leak,
                certainty,
                Stake::Retained,
                reachable_retained,
                format!(
                    "{} live {simple} objects retain {}, held by {}: {what}{garbage_title}",
                    thousands(counts.reachable),
                    bytes(reachable_retained),
                    holders
                        .first()
                        .map(|_| maps_owner_short(a, &maps))
                        .unwrap_or_else(|| "something other than a session manager".into()),
                ),
                format!("The problem is the live part: {what}."),
                if parts.garbage {
                    format!("{fix} {garbage_fix}")
                } else {
                    fix
                },
            )
        }
        None => (
            Category::Garbage,
            Certainty::Likely,
            Stake::Unreachable,
            garbage_bytes,
            if partial {
                format!(
                    "{} of {} {simple} objects are not reachable from what this incomplete dump \
                     holds ({}): reachability is partial",
                    thousands(counts.unreachable),
                    thousands(counts.total),
                    bytes(garbage_bytes)
                )
            } else {
                format!(
                    "{} of {} {simple} objects are unreachable garbage ({}): not a leak; {} \
                     live ones are in the managers' maps",
                    thousands(counts.unreachable),
                    thousands(counts.total),
                    bytes(garbage_bytes),
                    thousands(in_maps)
                )
            },
            if partial {
                "Nothing can be concluded about the unreachable part from an incomplete dump; \
                 take a complete one (jmap -dump, or -XX:+HeapDumpOnOutOfMemoryError with \
                 enough disk space)."
                    .to_string()
            } else {
                format!(
                    "The live sessions are not the problem ({} of them, none past their \
                     timeout in numbers that matter).",
                    thousands(counts.reachable)
                )
            },
            if partial {
                "Take a complete heap dump before judging these sessions.".to_string()
            } else {
                garbage_fix.to_string()
            },
        ),
    };
    let mut h = hint("sessions", category, certainty, stake, title);
    h.explanation = format!(
        "{live_text} {}{garbage_text} {problem}",
        if counts.unreachable > 0 {
            "Of the rest, "
        } else {
            ""
        },
    );
    if counts.unreachable == 0 {
        h.explanation = format!("{live_text} {problem}");
    }
    h.explanation.push_str(&format!(
        " (Sessions are named from {MIN_SESSIONS} in the dump; live ones are the problem when \
         {MIN_SESSIONS} or more are past their timeout, or {} or more are live.)",
        thousands(MIN_SESSIONS * 10)
    ));
    h.fix = fix;
    h.retained_bytes = retained;
    h.claimed = live;
    for (k, v) in [
        ("sessions", counts.total),
        ("reachable", counts.reachable),
        ("unreachable", counts.unreachable),
        ("valid", counts.valid),
        ("invalid", counts.total - counts.valid),
        ("expired", counts.expired),
        ("reachable_expired", counts.reachable_expired),
        ("in_manager_maps", in_maps),
        ("garbage_bytes", garbage_bytes),
        ("reachable_retained_bytes", reachable_retained),
        ("dump_timestamp_ms", now),
    ] {
        h.numbers.insert(k.into(), v);
    }
    if let Some(t) = timeout_s {
        h.numbers.insert("max_inactive_interval_s".into(), t as u64);
    }
    if let Some(ms) = oldest_idle_ms {
        h.numbers.insert("oldest_idle_ms".into(), ms);
    }
    for &(m, map, n) in maps.iter().take(5) {
        let own = owner::owner(a, m);
        h.evidence.push(evidence(
            a,
            m,
            "session manager",
            Some(format!("{} (held by {})", index.describe(m), own.text)),
        ));
        h.evidence.push(evidence(
            a,
            map,
            "sessions map",
            Some(format!(
                "{} ({} sessions)",
                index.describe(map),
                thousands(n)
            )),
        ));
        if own.object != m && index.class_for_object(own.object).is_some() {
            h.evidence
                .push(evidence(a, own.object, "owner", Some(own.text.clone())));
        }
    }
    let pick = |want_reachable: bool, n: usize| {
        sessions
            .iter()
            .zip(&states)
            .filter(move |(_, s)| s.reachable == want_reachable)
            .take(n)
            .map(|(&o, s)| (o, *s))
            .collect::<Vec<_>>()
    };
    for (o, s) in pick(true, 3).into_iter().chain(pick(false, 3)) {
        let role = if s.reachable {
            "live session"
        } else {
            "garbage session"
        };
        let label = format!(
            "{} ({}, {})",
            index.describe(o),
            if s.valid { "valid" } else { "invalidated" },
            if s.expired {
                "past its timeout"
            } else {
                "within its timeout"
            }
        );
        h.evidence.push(evidence(a, o, role, Some(label)));
    }
    vec![h]
}

/// `static ManagerBase.MANAGERS` (the owner of the biggest manager's map), for titles.
fn maps_owner_short(a: &Analysis, maps: &[(ObjectId, ObjectId, u64)]) -> String {
    match maps.first() {
        Some(&(m, _, _)) => format!(
            "{}.sessions ({})",
            super::simple_name(java::class_name(&a.index, m)),
            owner::owner(a, m).short
        ),
        None => "no session manager".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_at_dump_time() {
        // 1800 s timeout, idle 1801 s: expired; idle 10 s: not; -1: never.
        assert!(is_expired(2_000_000, 2_000_000 - 1_801_000, 1800));
        assert!(!is_expired(2_000_000, 2_000_000 - 10_000, 1800));
        assert!(!is_expired(2_000_000, 1, -1));
    }

    #[test]
    fn verdicts() {
        let mut c = SessionCounts::default();
        for _ in 0..900 {
            c.add(SessionState {
                reachable: false,
                valid: false,
                expired: true,
            });
        }
        for _ in 0..100 {
            c.add(SessionState {
                reachable: true,
                valid: true,
                expired: false,
            });
        }
        assert_eq!(verdict(&c), Some(Verdict::Garbage));
        assert_eq!(
            parts(&c),
            Parts {
                live: None,
                garbage: true
            }
        );
        let mut d = SessionCounts::default();
        for _ in 0..300 {
            d.add(SessionState {
                reachable: true,
                valid: true,
                expired: true,
            });
        }
        assert_eq!(verdict(&d), Some(Verdict::ExpiredButHeld));
        // Both facts at once: 20,000 live past their timeout and 20,000 garbage.
        let mut e = SessionCounts::default();
        for i in 0..40_000 {
            e.add(SessionState {
                reachable: i % 2 == 0,
                valid: i % 2 == 0,
                expired: true,
            });
        }
        assert_eq!(
            parts(&e),
            Parts {
                live: Some(Verdict::ExpiredButHeld),
                garbage: true
            }
        );
        assert_eq!(verdict(&SessionCounts::default()), None);
    }
}
