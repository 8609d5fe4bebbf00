//! Per-instance clients never closed: many instances of a client or connection-manager class
//! all held by one static registry or one long-lived thread (the Aliyun OSS
//! `IdleConnectionReaper` case: a new `OSSClient` per request, never `shutdown()`).

use rustc_hash::FxHashMap;

use super::{evidence, hint, label_of, simple_name, Category, Certainty, Hint, Stake};
use crate::analysis::java;
use crate::analysis::Analysis;
use crate::format::{bytes, thousands};
use crate::heap::{ClassIndex, ClassKind, HeapIndex, ObjectId};

/// A registry holding fewer clients than this is not suspicious.
pub const MIN_CLIENTS: usize = 20;
/// Elements read from one collection at most.
const ELEMENT_LIMIT: usize = 500_000;

/// Names of classes whose instances should be few and closed when done.
pub fn is_client_like(name: &str) -> bool {
    let simple = simple_name(name);
    if name.starts_with("java.") || name.starts_with("jdk.") || name.starts_with("sun.") {
        return false;
    }
    [
        "Client",
        "ConnectionManager",
        "Connection",
        "ConnectionPool",
        "Pool",
        "Transport",
        "Channel",
        "Producer",
        "Consumer",
        "DataSource",
        "Driver",
    ]
    .iter()
    .any(|w| simple.contains(w))
}

/// Classes of collections whose elements are worth counting.
fn is_collection_class(index: &HeapIndex, c: ClassIndex) -> bool {
    let info = index.classes().get(c);
    match info.kind {
        ClassKind::ObjectArray => true,
        ClassKind::PrimitiveArray(_) => false,
        ClassKind::Instance => {
            info.name.starts_with("java.util.")
                && [
                    "List",
                    "Map",
                    "Set",
                    "Queue",
                    "Vector",
                    "Deque",
                    "Hashtable",
                ]
                .iter()
                .any(|w| info.name.contains(w))
        }
    }
}

/// A registry: a collection in a static field or a thread's field.
struct Registry {
    /// Class object or thread.
    holder: ObjectId,
    /// `static Foo.bar` or `thread "x" .field`.
    place: String,
    collection: ObjectId,
}

fn registries(a: &Analysis) -> Vec<Registry> {
    let index = &a.index;
    let mut out = Vec::new();
    for (ci, info) in index.classes().classes.iter().enumerate() {
        let Some(holder) = index.class_object(ci as ClassIndex) else {
            continue;
        };
        for s in &info.statics {
            let Some(v) = java::resolve(index, Some(s.value)) else {
                continue;
            };
            if is_collection_class(index, index.class_of(v)) {
                out.push(Registry {
                    holder,
                    place: format!("static {}.{}", info.name, s.name),
                    collection: v,
                });
            }
        }
    }
    for t in index.threads() {
        let Some(thread) = t.object else { continue };
        let mut owners = vec![thread];
        owners.extend(index.field_object(thread, "target"));
        for owner in owners {
            for f in index.fields(owner) {
                let Some(v) = java::resolve(index, Some(f.value)) else {
                    continue;
                };
                // The JDK's own Thread fields are not registries.
                if index.classes().get(f.declared_by).name == "java.lang.Thread" {
                    continue;
                }
                if is_collection_class(index, index.class_of(v)) {
                    out.push(Registry {
                        holder: thread,
                        place: format!("thread \"{}\" .{}", t.name, f.name),
                        collection: v,
                    });
                }
            }
        }
    }
    out
}

/// What the user created and should close, when the registry is a known one.
fn known_owner(holder_class: &str) -> Option<(&'static [&'static str], &'static str)> {
    match holder_class {
        "com.aliyun.oss.common.comm.IdleConnectionReaper" => Some((
            &["com.aliyun.oss.OSSClient"],
            "Call ossClient.shutdown() when a client is no longer needed, or better: create one \
             OSSClient for the application and reuse it (it is thread-safe). Each OSSClient \
             registers its connection manager with the static IdleConnectionReaper, which \
             keeps it until shutdown().",
        )),
        "org.apache.http.impl.client.IdleConnectionEvictor" => Some((
            &["org.apache.http.impl.client.InternalHttpClient"],
            "close() every CloseableHttpClient you build, or share one client.",
        )),
        _ => None,
    }
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let reachable = super::reachable_bytes(a);
    let mut out = Vec::new();
    let mut seen_collections: Vec<ObjectId> = Vec::new();
    for r in registries(a) {
        if seen_collections.contains(&r.collection) {
            continue;
        }
        let Some(elements) = java::elements(index, r.collection, ELEMENT_LIMIT) else {
            continue;
        };
        if elements.len() < MIN_CLIENTS {
            continue;
        }
        let mut by_class: FxHashMap<ClassIndex, Vec<ObjectId>> = FxHashMap::default();
        for &e in &elements {
            by_class.entry(index.class_of(e)).or_default().push(e);
        }
        let Some((&class, members)) = by_class.iter().max_by_key(|(_, v)| v.len()) else {
            continue;
        };
        let class_name = index.classes().get(class).name.clone();
        if members.len() < MIN_CLIENTS || !is_client_like(&class_name) {
            continue;
        }
        seen_collections.push(r.collection);
        let retained: u64 = members.iter().map(|&m| tree.retained(m)).sum();
        let holder_class = match index.class_for_object(r.holder) {
            Some(c) => index.classes().get(c).name.clone(),
            None => java::class_name(index, r.holder).to_string(),
        };
        let known = known_owner(&holder_class);
        let mut h = hint(
            "clients_not_closed",
            Category::Leak,
            if known.is_some() {
                Certainty::Certain
            } else {
                Certainty::Likely
            },
            Stake::Retained,
            format!(
                "{} {} objects held by {}: clients created per use and never closed{}",
                thousands(members.len() as u64),
                simple_name(&class_name),
                r.place,
                if known.is_some() { "" } else { "?" }
            ),
        );
        h.retained_bytes = retained;
        h.claimed = members.clone();
        h.numbers.insert("instances".into(), members.len() as u64);
        h.numbers.insert("retained_bytes".into(), retained);
        h.evidence.push(evidence(
            a,
            r.collection,
            "registry",
            Some(format!("{} ({})", index.describe(r.collection), r.place)),
        ));
        h.evidence.push(evidence(
            a,
            r.holder,
            "registry holder",
            Some(label_of(index, r.holder)),
        ));
        // Live threads of the holder's class (e.g. the reaper thread itself).
        if let Some(hc) = index.class_for_object(r.holder) {
            for t in index.threads() {
                if let Some(to) = t.object {
                    if index.classes().is_subclass_of(index.class_of(to), hc) {
                        h.evidence
                            .push(evidence(a, to, "thread", Some(label_of(index, to))));
                    }
                }
            }
        }
        for &m in members.iter().take(5) {
            h.evidence.push(evidence(a, m, "instance", None));
        }
        let mut owners_text = String::new();
        if let Some((owners, _)) = known {
            let inst = java::instances_of(index, owners);
            let live = inst.iter().filter(|&&o| tree.is_reachable(o)).count() as u64;
            let total = inst.len() as u64;
            h.numbers.insert("owner_instances".into(), total);
            h.numbers.insert("owner_instances_reachable".into(), live);
            if total > 0 {
                owners_text = format!(
                    " The dump holds {} {} objects ({} reachable, {} {}): the clients were \
                     dropped, but what they registered was not.",
                    thousands(total),
                    owners.join("/"),
                    thousands(live),
                    thousands(total - live),
                    super::unreachable_words(a)
                );
            }
            for &o in inst.iter().take(3) {
                h.evidence.push(evidence(a, o, "client", None));
            }
        }
        h.explanation = format!(
            "{} holds {} {} objects ({} retained). One registry collecting many instances of a \
             client or connection-manager class is the signature of clients created per \
             request and never closed: each instance registers itself (or its connection \
             pool) and only close()/shutdown() removes it.{owners_text} (heapsight names \
             any static or thread-held collection of {MIN_CLIENTS} or more client-like objects; \
             its size sets the rank, {} of the {} live heap here.)",
            r.place,
            thousands(members.len() as u64),
            class_name,
            bytes(retained),
            crate::format::percent(retained, reachable),
            bytes(reachable),
        );
        h.fix = match known {
            Some((_, fix)) => fix.to_string(),
            None => format!(
                "Close or shut down each {} when done (try-with-resources) so that {} lets go \
                 of it, or create one instance at startup and share it.",
                simple_name(&class_name),
                r.place
            ),
        };
        out.push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_like_names() {
        assert!(is_client_like(
            "org.apache.http.impl.conn.PoolingHttpClientConnectionManager"
        ));
        assert!(is_client_like("com.aliyun.oss.OSSClient"));
        assert!(!is_client_like("java.util.HashMap$Node"));
        assert!(!is_client_like("com.example.Order"));
    }
}
