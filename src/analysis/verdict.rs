//! The answer in a few sentences, from the hints: is it a leak, what, how big; and how much
//! of the heap is garbage (not a leak). The overview opens with it.

use super::hints::{Category, Hint, Severity};
use super::Analysis;
use crate::format;

/// Leaks named one by one; the rest are counted.
const NAMED_MAX: usize = 5;

/// One finding of the verdict, linked to its hint.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictItem {
    /// Index in the hint list.
    pub hint: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// `3 leaks:` / `No leak pattern found.`
    pub headline: String,
    /// Leaks, biggest first.
    pub leaks: Vec<VerdictItem>,
    /// Other findings worth a look (threads, off-heap, waste), most severe first.
    pub others: Vec<VerdictItem>,
    /// `10 % of the heap is garbage, not a leak.`
    pub garbage: Option<String>,
}

/// The verdict on a dump from its hints.
pub fn verdict(a: &Analysis, hints: &[Hint]) -> Verdict {
    let item = |(i, h): (usize, &Hint)| VerdictItem {
        hint: i,
        text: if h.retained_bytes > 0 {
            format!("{} ({})", h.title, format::bytes(h.retained_bytes))
        } else {
            h.title.clone()
        },
    };
    let mut leaks: Vec<(usize, &Hint)> = hints
        .iter()
        .enumerate()
        .filter(|(_, h)| h.is_leak())
        .collect();
    leaks.sort_by(|x, y| {
        y.1.severity
            .cmp(&x.1.severity)
            .then(y.1.retained_bytes.cmp(&x.1.retained_bytes))
    });
    let headline = match leaks.len() {
        0 => "No leak pattern found.".to_string(),
        1 => "1 leak:".to_string(),
        n => format!("{n} leaks:"),
    };
    let mut others: Vec<(usize, &Hint)> = hints
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            !h.is_leak() && h.category != Category::Garbage && h.severity >= Severity::Medium
        })
        .collect();
    others.sort_by_key(|x| std::cmp::Reverse(x.1.severity));
    let dom = &a.dominators;
    let total = dom.reachable_bytes + dom.unreachable_bytes;
    let garbage = (dom.unreachable_bytes > 0 && total > 0).then(|| {
        format!(
            "{} of the heap ({}) is garbage not yet collected, not a leak.",
            format::percent(dom.unreachable_bytes, total),
            format::bytes(dom.unreachable_bytes)
        )
    });
    Verdict {
        headline,
        leaks: leaks.into_iter().take(NAMED_MAX).map(item).collect(),
        others: others.into_iter().take(3).map(item).collect(),
        garbage,
    }
}
