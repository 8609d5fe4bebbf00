//! Class loader leaks after redeploy: several loaders of the same web-app loader class
//! defining classes of the same names, stopped ones flagged (Tomcat 8+: `state` STOPPED or
//! DESTROYED; Tomcat 7: `started == false`), and for each stopped loader that is still
//! reachable, what pins it: a `ThreadLocal` value on a pooled thread, a JDBC driver in
//! `java.sql.DriverManager`, a thread or `Timer` started by the application, a static field of
//! a class from a parent loader.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{evidence, hint, label_of, simple_name, Category, Certainty, Evidence, Hint, Stake};
use crate::analysis::java::{self, Fields};
use crate::analysis::Analysis;
use crate::format::{bytes, thousands};
use crate::heap::{ClassIndex, HeapIndex, ObjectId};

/// Loader classes of web applications (their subclasses count too).
pub const WEBAPP_LOADERS: &[&str] = &[
    "org.apache.catalina.loader.WebappClassLoaderBase",
    "org.apache.catalina.loader.WebappClassLoader",
    "org.apache.catalina.loader.ParallelWebappClassLoader",
    "org.eclipse.jetty.webapp.WebAppClassLoader",
];

/// Loader classes that define one-off classes by design (never a leak by duplication).
const IGNORED_LOADERS: &[&str] = &[
    "jdk.internal.reflect.DelegatingClassLoader",
    "sun.reflect.DelegatingClassLoader",
    "jdk.internal.loader.ClassLoaders$AppClassLoader",
    "jdk.internal.loader.ClassLoaders$PlatformClassLoader",
];

/// A loader's lifecycle, when its class records one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoaderState {
    Running(String),
    Stopped(String),
    Unknown,
}

impl LoaderState {
    pub fn is_stopped(&self) -> bool {
        matches!(self, LoaderState::Stopped(_))
    }
}

/// Tomcat's lifecycle state names that mean "undeployed".
pub fn is_stopped_state(name: &str) -> bool {
    matches!(
        name,
        "STOPPING_PREP" | "STOPPING" | "STOPPED" | "DESTROYING" | "DESTROYED" | "FAILED"
    )
}

/// Reads a loader's state: Tomcat 8+ `state` (LifecycleState), Tomcat 7 `started`.
pub fn loader_state(index: &HeapIndex, loader: ObjectId) -> LoaderState {
    let f = Fields::of(index, loader);
    if let Some(s) = f.object(index, "state") {
        if let Some(name) = java::enum_name(index, s) {
            return if is_stopped_state(&name) {
                LoaderState::Stopped(name)
            } else {
                LoaderState::Running(name)
            };
        }
    }
    match f.boolean("started") {
        Some(true) => LoaderState::Running("started".into()),
        Some(false) => LoaderState::Stopped("started=false".into()),
        None => LoaderState::Unknown,
    }
}

/// What keeps a loader alive.
#[derive(Debug, Clone)]
pub struct Pin {
    pub kind: &'static str,
    pub object: ObjectId,
    pub text: String,
}

/// Per loader address: the classes it defines.
pub fn classes_by_loader(index: &HeapIndex) -> FxHashMap<u64, Vec<ClassIndex>> {
    let mut out: FxHashMap<u64, Vec<ClassIndex>> = FxHashMap::default();
    for (i, c) in index.classes().classes.iter().enumerate() {
        if c.loader_id != 0 && c.dump_offset.is_some() {
            out.entry(c.loader_id).or_default().push(i as ClassIndex);
        }
    }
    out
}

fn defined_by(index: &HeapIndex, o: ObjectId, loader_addr: u64) -> bool {
    let c = index.classes().get(index.class_of(o));
    c.loader_id == loader_addr
        || index
            .class_for_object(o)
            .is_some_and(|k| index.classes().get(k).loader_id == loader_addr)
}

/// The pins of one loader.
pub fn pins(a: &Analysis, loader: ObjectId) -> Vec<Pin> {
    let index = &a.index;
    let addr = index.address(loader);
    let is_app = |o: ObjectId| o == loader || defined_by(index, o, addr);
    let mut out = Vec::new();
    for t in index.threads() {
        let Some(thread) = t.object else { continue };
        let f = Fields::of(index, thread);
        let class = java::class_name(index, thread).to_string();
        if defined_by(index, thread, addr) {
            out.push(Pin {
                kind: "thread",
                object: thread,
                text: format!(
                    "thread \"{}\" ({class}) was started by the application and is still \
                     running",
                    t.name
                ),
            });
        } else if f.object(index, "target").is_some_and(is_app) {
            out.push(Pin {
                kind: "thread",
                object: thread,
                text: format!(
                    "thread \"{}\" runs an application Runnable ({})",
                    t.name,
                    f.object(index, "target")
                        .map(|r| java::class_name(index, r).to_string())
                        .unwrap_or_default()
                ),
            });
        } else if class == "java.util.TimerThread" {
            let tasks = f
                .object(index, "queue")
                .and_then(|q| index.field_object(q, "queue"))
                .map(|arr| java::array_elements(index, arr, 10_000))
                .unwrap_or_default();
            if let Some(&task) = tasks.iter().find(|&&x| is_app(x)) {
                out.push(Pin {
                    kind: "timer",
                    object: thread,
                    text: format!(
                        "java.util.Timer thread \"{}\" holds the application's TimerTask {} \
                         (a Timer started by the application and never cancelled)",
                        t.name,
                        java::class_name(index, task)
                    ),
                });
            }
        }
        if f.object(index, "contextClassLoader") == Some(loader)
            && !out.iter().any(|p| p.object == thread)
        {
            out.push(Pin {
                kind: "context class loader",
                object: thread,
                text: format!(
                    "thread \"{}\" ({class}) has the loader as its context class loader",
                    t.name
                ),
            });
        }
        for e in java::thread_locals(index, thread) {
            let value_app = e.value.is_some_and(is_app);
            let key_app = e.key.is_some_and(is_app);
            if value_app || key_app {
                let what = e
                    .value
                    .filter(|&v| is_app(v))
                    .or(e.key)
                    .map(|o| java::class_name(index, o).to_string())
                    .unwrap_or_default();
                out.push(Pin {
                    kind: "thread-local",
                    object: e.value.unwrap_or(e.entry),
                    text: format!(
                        "a ThreadLocal {} of class {what} on thread \"{}\" (a pooled thread \
                         outlives the application)",
                        if value_app { "value" } else { "key" },
                        t.name
                    ),
                });
            }
        }
    }
    // JDBC drivers registered in DriverManager.
    if let Some(list) = java::static_object(index, "java.sql.DriverManager", "registeredDrivers") {
        for info in java::elements(index, list, 10_000).unwrap_or_default() {
            let driver = index.field_object(info, "driver").unwrap_or(info);
            if is_app(driver) {
                out.push(Pin {
                    kind: "jdbc driver",
                    object: driver,
                    text: format!(
                        "JDBC driver {} is still registered in java.sql.DriverManager",
                        java::class_name(index, driver)
                    ),
                });
            }
        }
    }
    // Static fields of classes the loader did not define.
    for (ci, c) in index.classes().classes.iter().enumerate() {
        if c.loader_id == addr || c.name == "java.sql.DriverManager" {
            continue;
        }
        for s in &c.statics {
            let Some(v) = java::resolve(index, Some(s.value)) else {
                continue;
            };
            if is_app(v) {
                out.push(Pin {
                    kind: "static field",
                    object: index.class_object(ci as ClassIndex).unwrap_or(v),
                    text: format!(
                        "static field {}.{} (a class of another loader) holds {}",
                        c.name,
                        s.name,
                        java::class_name(index, v)
                    ),
                });
            }
        }
    }
    out
}

fn fix_for(kinds: &FxHashSet<&'static str>) -> String {
    let mut parts = Vec::new();
    if kinds.contains("thread-local") {
        parts.push(
            "call ThreadLocal.remove() in a finally block (or a ServletRequestListener) so \
             pooled threads do not keep application objects; Tomcat's \
             ThreadLocalLeakPreventionListener renews pool threads after a redeploy",
        );
    }
    if kinds.contains("jdbc driver") {
        parts.push(
            "deregister JDBC drivers in ServletContextListener.contextDestroyed \
             (DriverManager.deregisterDriver for drivers whose class loader is the web app's), \
             or move the driver jar to the container's lib/ and use a container DataSource",
        );
    }
    if kinds.contains("timer") || kinds.contains("thread") {
        parts.push(
            "stop the threads and cancel the Timers the application started, in \
             contextDestroyed (Timer.cancel(), ExecutorService.shutdown(); MySQL Connector/J: \
             AbandonedConnectionCleanupThread.checkedShutdown())",
        );
    }
    if kinds.contains("static field") {
        parts.push(
            "clear static fields of shared (parent-loader) classes that point into the \
             application on undeploy (e.g. commons-logging: LogFactory.release(loader))",
        );
    }
    if kinds.contains("context class loader") {
        parts.push(
            "create long-lived threads with the container's class loader as context class \
             loader, not the web application's",
        );
    }
    parts.push(
        "until then, restart instead of hot-redeploying; each redeploy otherwise adds a copy \
         of every class to Metaspace",
    );
    let mut s = parts.join("; ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s.push('.');
    s
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let loaders = java::instances_of(index, &["java.lang.ClassLoader"]);
    if loaders.is_empty() {
        return Vec::new();
    }
    let webapp_mask = java::subclass_mask(index, WEBAPP_LOADERS);
    let by_loader = classes_by_loader(index);
    let mut groups: FxHashMap<ClassIndex, Vec<ObjectId>> = FxHashMap::default();
    for &l in &loaders {
        let c = index.class_of(l);
        if IGNORED_LOADERS.contains(&index.classes().get(c).name.as_str()) {
            continue;
        }
        groups.entry(c).or_default().push(l);
    }
    let mut out = Vec::new();
    let mut group_list: Vec<(ClassIndex, Vec<ObjectId>)> = groups.into_iter().collect();
    group_list.sort_by_key(|(c, _)| *c);
    for (lclass, members) in group_list {
        let lname = index.classes().get(lclass).name.clone();
        let is_webapp = webapp_mask[lclass as usize];
        let names_of = |l: ObjectId| -> FxHashSet<&str> {
            by_loader
                .get(&index.address(l))
                .map(|v| {
                    v.iter()
                        .map(|&c| index.classes().get(c).name.as_str())
                        .collect()
                })
                .unwrap_or_default()
        };
        let sets: Vec<FxHashSet<&str>> = members.iter().map(|&l| names_of(l)).collect();
        let mut dup: FxHashSet<&str> = FxHashSet::default();
        for i in 0..sets.len() {
            for j in i + 1..sets.len() {
                dup.extend(sets[i].intersection(&sets[j]).copied());
            }
        }
        let states: Vec<LoaderState> = members.iter().map(|&l| loader_state(index, l)).collect();
        let stopped_reachable: Vec<usize> = (0..members.len())
            .filter(|&i| states[i].is_stopped() && tree.is_reachable(members[i]))
            .collect();
        let duplicated = members.len() >= 2 && !dup.is_empty();
        if !(duplicated && (is_webapp || lname.contains("ClassLoader"))
            || !stopped_reachable.is_empty())
        {
            continue;
        }
        // Loaders to explain: the stopped ones; without lifecycle state, all duplicates.
        let suspects: Vec<usize> = if !stopped_reachable.is_empty() {
            stopped_reachable.clone()
        } else if states.iter().all(|s| *s == LoaderState::Unknown) {
            (0..members.len())
                .filter(|&i| tree.is_reachable(members[i]) && !sets[i].is_empty())
                .collect()
        } else {
            Vec::new()
        };
        let mut ev: Vec<Evidence> = Vec::new();
        let mut texts = Vec::new();
        let mut kinds: FxHashSet<&'static str> = FxHashSet::default();
        let mut at_stake = 0u64;
        let mut pin_count = 0u64;
        let mut claimed: Vec<ObjectId> = Vec::new();
        let mut pin_names: Vec<String> = Vec::new();
        for &i in &suspects {
            let l = members[i];
            let state = match &states[i] {
                LoaderState::Running(s) | LoaderState::Stopped(s) => s.clone(),
                LoaderState::Unknown => "state unknown".into(),
            };
            let classes = by_loader.get(&index.address(l)).map_or(&[][..], |v| &v[..]);
            let mut bytes_here = tree.retained(l);
            claimed.push(l);
            for &c in classes {
                if let Some(co) = index.class_object(c) {
                    if !tree.dominators_of(co).contains(&l) {
                        bytes_here += tree.retained(co);
                        claimed.push(co);
                    }
                }
            }
            at_stake += bytes_here;
            ev.push(evidence(
                a,
                l,
                if states[i].is_stopped() {
                    "leaked loader"
                } else {
                    "loader"
                },
                Some(format!(
                    "{} ({state}, {} classes)",
                    index.describe(l),
                    classes.len()
                )),
            ));
            let ps = pins(a, l);
            pin_count += ps.len() as u64;
            let mut lines = Vec::new();
            for p in ps.iter().take(20) {
                kinds.insert(p.kind);
                let short = match p.kind {
                    "thread-local" => "a ThreadLocal value on a pooled thread".to_string(),
                    "jdbc driver" => "a JDBC driver in DriverManager".to_string(),
                    "timer" => "a Timer thread".to_string(),
                    "thread" => format!(
                        "thread \"{}\"",
                        java::field_string(index, p.object, "name").unwrap_or_default()
                    ),
                    "static field" => "a static field of a shared class".to_string(),
                    "context class loader" => "a thread's context class loader".to_string(),
                    other => other.to_string(),
                };
                if !pin_names.contains(&short) {
                    pin_names.push(short);
                }
                ev.push(evidence(
                    a,
                    p.object,
                    &format!("pin: {}", p.kind),
                    Some(format!("{} — {}", label_of(index, p.object), p.text)),
                ));
                lines.push(format!("  - {}", p.text));
            }
            texts.push(format!(
                "{} ({state}, defines {} classes) is still reachable{}\n{}",
                index.describe(l),
                classes.len(),
                if ps.is_empty() {
                    "; no known pin found: open its paths to GC roots"
                } else {
                    ", pinned by:"
                },
                lines.join("\n")
            ));
        }
        for (i, &l) in members.iter().enumerate() {
            if !suspects.contains(&i) {
                ev.push(evidence(
                    a,
                    l,
                    "other loader",
                    Some(format!(
                        "{} ({})",
                        index.describe(l),
                        match &states[i] {
                            LoaderState::Running(s) | LoaderState::Stopped(s) => s.as_str(),
                            LoaderState::Unknown => "state unknown",
                        }
                    )),
                ));
            }
        }
        let stopped_total = states.iter().filter(|s| s.is_stopped()).count() as u64;
        let certainty = if !stopped_reachable.is_empty() {
            Certainty::Certain
        } else {
            Certainty::Possible
        };
        let pinned_by = if pin_names.is_empty() {
            String::new()
        } else {
            format!(", pinned by {}", pin_names.join(", "))
        };
        let mut h = hint(
            "classloader_leak",
            Category::Leak,
            certainty,
            Stake::Retained,
            if stopped_reachable.is_empty() {
                format!(
                    "{} {} loaders define {} class {} in common (class loader leak after \
                     redeploy?)",
                    members.len(),
                    simple_name(&lname),
                    thousands(dup.len() as u64),
                    if dup.len() == 1 { "name" } else { "names" }
                )
            } else {
                format!(
                    "Class loader leak: {} stopped {} still reachable{pinned_by} ({} loaders of \
                     this class, {} class {} defined by more than one)",
                    stopped_reachable.len(),
                    simple_name(&lname),
                    members.len(),
                    thousands(dup.len() as u64),
                    if dup.len() == 1 { "name" } else { "names" }
                )
            },
        );
        h.retained_bytes = at_stake;
        h.claimed = claimed;
        h.evidence = ev;
        for (k, v) in [
            ("loaders", members.len() as u64),
            ("stopped", stopped_total),
            ("stopped_reachable", stopped_reachable.len() as u64),
            ("duplicated_classes", dup.len() as u64),
            ("pins", pin_count),
        ] {
            h.numbers.insert(k.into(), v);
        }
        let mut sample: Vec<&str> = dup.iter().copied().collect();
        sample.sort_unstable();
        sample.truncate(5);
        h.explanation = format!(
            "{} instances of {lname} exist{}; {} class {} defined by more than one of \
             them (e.g. {}). After a redeploy the old loader and every class it defined (with \
             their static fields) should be collected; one reference from a longer-lived \
             object keeps them all in the heap and in Metaspace ({} at stake in the heap).\n{}",
            members.len(),
            if stopped_total > 0 {
                format!(", {stopped_total} of them stopped")
            } else {
                String::new()
            },
            thousands(dup.len() as u64),
            if dup.len() == 1 {
                "name is"
            } else {
                "names are"
            },
            sample.join(", "),
            bytes(at_stake),
            texts.join("\n")
        );
        h.fix = fix_for(&kinds);
        out.push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopped_states() {
        assert!(is_stopped_state("STOPPED"));
        assert!(is_stopped_state("DESTROYED"));
        assert!(!is_stopped_state("STARTED"));
        let mut k = FxHashSet::default();
        k.insert("jdbc driver");
        assert!(fix_for(&k).contains("deregisterDriver"));
    }
}
