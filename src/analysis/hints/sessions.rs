//! HTTP sessions piling up: Tomcat's `StandardSession` (and similar session classes) by
//! count, how many are still valid, how many are past their `maxInactiveInterval` at the
//! dump's timestamp, and what holds them: the manager's `sessions` map, or nothing (garbage).

use super::{evidence, hint, Category, Hint, Severity};
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
    let Some(verdict) = verdict(&counts) else {
        return Vec::new();
    };
    let class = java::class_name(index, sessions[0]).to_string();

    // The managers and their maps.
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
    let reachable_retained: u64 = sessions
        .iter()
        .filter(|&&o| tree.is_reachable(o))
        .map(|&o| tree.retained(o))
        .sum();
    let garbage: Vec<ObjectId> = sessions
        .iter()
        .copied()
        .filter(|&o| !tree.is_reachable(o))
        .collect();
    let garbage_bytes = garbage_closure(a, &garbage);

    let (category, severity, title, explanation, fix, retained) = match verdict {
        Verdict::Garbage => (
            Category::Garbage,
            Severity::Medium,
            format!(
                "{} {} objects, {} of them unreachable garbage ({}): not a leak",
                thousands(counts.total),
                super::simple_name(&class),
                thousands(counts.unreachable),
                bytes(garbage_bytes)
            ),
            format!(
                "The dump holds {} sessions but only {} are reachable ({} in the managers' \
                 session maps). {} unreachable sessions are invalid or past their \
                 maxInactiveInterval at the dump's time: the manager already expired and \
                 removed them, and together with their attributes they are {} of garbage the \
                 collector has not reclaimed yet (typically they were promoted to the old \
                 generation and no old-generation/full GC has run since). `jmap -histo` counts \
                 them; `jmap -histo:live` would not.",
                thousands(counts.total),
                thousands(counts.reachable),
                thousands(in_maps),
                thousands(counts.unreachable_invalid_or_expired),
                bytes(garbage_bytes)
            ),
            "Nothing to fix in the application: the next full GC frees them. If the process's \
             memory (RSS) stays high, the heap grew and never shrinks: see the JVM advice \
             (-XX:MinHeapFreeRatio / -XX:MaxHeapFreeRatio, or -Xms equal to -Xmx on purpose). \
             Shorter session timeouts and not creating sessions for stateless requests \
             (request.getSession(false)) reduce the churn."
                .to_string(),
            garbage_bytes,
        ),
        Verdict::ExpiredButHeld => (
            Category::Leak,
            Severity::High,
            format!(
                "{} {} objects past their timeout are still reachable",
                thousands(counts.reachable_expired),
                super::simple_name(&class)
            ),
            format!(
                "{} of {} reachable sessions have been idle longer than their \
                 maxInactiveInterval at the dump's time, yet are still held ({} in the \
                 managers' session maps). Tomcat expires sessions from its background \
                 processor; when it does not run, or something else references the sessions, \
                 they pile up.",
                thousands(counts.reachable_expired),
                thousands(counts.reachable),
                thousands(in_maps)
            ),
            "Check that the container's background processor runs (Tomcat: \
             backgroundProcessorDelay > 0, processExpiresFrequency) and that no application \
             code keeps sessions in its own collections (listeners, static maps)."
                .to_string(),
            reachable_retained,
        ),
        Verdict::ManyLive => (
            Category::Leak,
            Severity::Medium,
            format!(
                "{} live {} objects retain {}",
                thousands(counts.reachable),
                super::simple_name(&class),
                bytes(reachable_retained)
            ),
            format!(
                "{} sessions are reachable ({} valid), {} in the managers' session maps. Each \
                 keeps its attributes until it times out.",
                thousands(counts.reachable),
                thousands(counts.valid),
                thousands(in_maps)
            ),
            "Shorten the session timeout, avoid creating sessions for stateless or bot traffic \
             (request.getSession(false)), and keep session attributes small."
                .to_string(),
            reachable_retained,
        ),
    };
    let mut h = hint("sessions", category, severity, title);
    h.explanation = explanation;
    h.fix = fix;
    h.retained_bytes = retained;
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
    for &(m, map, n) in maps.iter().take(5) {
        h.evidence.push(evidence(a, m, "session manager", None));
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
            "{} (isValid={}, {})",
            index.describe(o),
            s.valid,
            if s.expired { "expired" } else { "not expired" }
        );
        h.evidence.push(evidence(a, o, role, Some(label)));
    }
    vec![h]
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
        let mut d = SessionCounts::default();
        for _ in 0..300 {
            d.add(SessionState {
                reachable: true,
                valid: true,
                expired: true,
            });
        }
        assert_eq!(verdict(&d), Some(Verdict::ExpiredButHeld));
        assert_eq!(verdict(&SessionCounts::default()), None);
    }
}
