//! JVM flag advice, explained from the dump: the JVM facts the dump records (version, vendor,
//! collector, JVM arguments, a few environment variables), then flags with suggested values,
//! the reason and the numbers of this dump behind them, and what the dump cannot tell.

pub mod flags;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hints::Hint;
use super::java;
use super::Analysis;
use crate::format::{bytes, thousands};
use crate::heap::HeapIndex;
pub use flags::{format_size, parse_size, round_heap, JvmFlags};

/// What the dump says about the JVM that wrote it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JvmFacts {
    pub java_version: Option<String>,
    /// Feature release: 8, 11, 17, ...
    pub java_major: Option<u32>,
    pub vendor: Option<String>,
    pub vm_name: Option<String>,
    pub vm_version: Option<String>,
    pub collector: Option<String>,
    /// Where the collector was read from.
    pub collector_source: Option<String>,
    /// `sun.java.command`: main class (or jar) and its arguments.
    pub command: Option<String>,
    pub compressed_oops_mode: Option<String>,
    /// Object layout inferred from the dump.
    pub layout: String,
    /// JVM arguments (`RuntimeMXBean.getInputArguments()`, when something asked for them).
    pub vm_args: Vec<String>,
    /// Selected environment variables (memory- and JVM-related only).
    pub env: BTreeMap<String, String>,
    /// Selected system properties.
    pub properties: BTreeMap<String, String>,
    /// Maximum heap, when known, and how it was found.
    pub max_heap_bytes: Option<u64>,
    pub max_heap_source: Option<String>,
    pub initial_heap_bytes: Option<u64>,
    /// Limit of direct buffer memory (`-XX:MaxDirectMemorySize`, by default the max heap).
    pub max_direct_memory_bytes: Option<u64>,
    pub threads: u64,
    pub classes: u64,
}

/// One flag to set or change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlagAdvice {
    /// `-Xmx`, `-XX:MaxHeapFreeRatio`, `MALLOC_ARENA_MAX` (environment), ...
    pub flag: String,
    /// Suggested value, as written after the flag (`2g`, `60`, `2`).
    pub value: String,
    /// The value in effect, when the dump records it.
    pub current: Option<String>,
    /// The flag and value as typed: `-Xmx2g`, `-XX:MaxHeapFreeRatio=60`, `MALLOC_ARENA_MAX=2`.
    pub setting: String,
    pub why: String,
    /// Numbers from this dump behind the advice.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Advice {
    pub jvm: JvmFacts,
    /// Reachable (live) bytes: the basis of heap sizing.
    pub live_set_bytes: u64,
    /// Unreachable bytes in the dump.
    pub garbage_bytes: u64,
    pub flags: Vec<FlagAdvice>,
    pub cannot_tell: Vec<String>,
}

const PROPERTY_KEYS: &[&str] = &[
    "java.version",
    "java.specification.version",
    "java.vendor",
    "java.vm.name",
    "java.vm.vendor",
    "java.vm.version",
    "java.vm.info",
    "java.runtime.name",
    "java.runtime.version",
    "java.vm.compressedOopsMode",
    "sun.java.command",
    "sun.nio.MaxDirectMemorySize",
    "sun.arch.data.model",
    "os.name",
    "os.arch",
    "os.version",
    "java.home",
    "catalina.home",
    "catalina.base",
    "file.encoding",
];

const ENV_KEYS: &[&str] = &[
    "MALLOC_ARENA_MAX",
    "MALLOC_CONF",
    "LD_PRELOAD",
    "JAVA_OPTS",
    "CATALINA_OPTS",
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "_JAVA_OPTIONS",
];

pub use crate::heap::vm::java_major;

/// The collector named by a GC MXBean (`G1 Young Generation`, `PS MarkSweep`, ...).
pub fn collector_from_bean(name: &str) -> Option<&'static str> {
    Some(match name {
        n if n.starts_with("G1") => "G1",
        "PS Scavenge" | "PS MarkSweep" => "Parallel",
        "Copy" | "MarkSweepCompact" => "Serial",
        "ParNew" | "ConcurrentMarkSweep" => "CMS",
        n if n.starts_with("ZGC") => "ZGC",
        n if n.starts_with("Shenandoah") => "Shenandoah",
        n if n.starts_with("Epsilon") => "Epsilon",
        _ => return None,
    })
}

fn read_env(index: &HeapIndex) -> BTreeMap<String, String> {
    let Some(env) = java::static_object(index, "java.lang.ProcessEnvironment", "theEnvironment")
        .or_else(|| {
            java::static_object(
                index,
                "java.lang.ProcessEnvironment",
                "theUnmodifiableEnvironment",
            )
        })
    else {
        return BTreeMap::new();
    };
    java::string_map(index, env, 10_000)
        .into_iter()
        .filter(|(k, _)| ENV_KEYS.contains(&k.as_str()))
        .collect()
}

fn read_vm_args(index: &HeapIndex) -> Vec<String> {
    for m in java::instances_of(index, &["sun.management.VMManagementImpl"]) {
        if let Some(list) = index.field_object(m, "vmArgs") {
            let args: Vec<String> = java::elements(index, list, 10_000)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| java::read_text(index, o))
                .collect();
            if !args.is_empty() {
                return args;
            }
        }
    }
    Vec::new()
}

fn read_collector(index: &HeapIndex, flags: &JvmFlags) -> (Option<String>, Option<String>) {
    if let Some(c) = flags.collector() {
        return (Some(c.to_string()), Some("JVM arguments".into()));
    }
    let beans = java::instances_of(
        index,
        &[
            "sun.management.GarbageCollectorImpl",
            "com.sun.management.internal.GarbageCollectorExtImpl",
        ],
    );
    for b in beans {
        if let Some(name) = java::field_string(index, b, "name") {
            if let Some(c) = collector_from_bean(&name) {
                return (
                    Some(c.to_string()),
                    Some(format!("GarbageCollectorMXBean \"{name}\"")),
                );
            }
        }
    }
    (None, None)
}

/// Reads the JVM facts from the dump.
pub fn jvm_facts(a: &Analysis) -> (JvmFacts, JvmFlags) {
    let index = &a.index;
    let props = crate::heap::props::system_properties(index);
    let env = read_env(index);
    let vm_args = read_vm_args(index);
    let mut tokens: Vec<String> = vm_args.clone();
    for key in [
        "JAVA_TOOL_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "_JAVA_OPTIONS",
        "JAVA_OPTS",
        "CATALINA_OPTS",
    ] {
        if let Some(v) = env.get(key) {
            tokens.extend(v.split_whitespace().map(str::to_string));
        }
    }
    let flags = JvmFlags::parse(&tokens);
    let (collector, collector_source) = read_collector(index, &flags);
    let java_version = props.get("java.version").cloned();
    let direct = ["jdk.internal.misc.VM", "sun.misc.VM"]
        .iter()
        .find_map(|c| java::static_int(index, c, "directMemory"))
        .filter(|&d| d > 0)
        .map(|d| d as u64);
    let direct_configured = flags.max_direct_memory.is_some()
        || props
            .get("sun.nio.MaxDirectMemorySize")
            .is_some_and(|v| !v.is_empty() && v != "-1");
    let (max_heap, max_heap_source) = match (flags.max_heap, direct) {
        (Some(m), _) => (Some(m), Some("-Xmx in the JVM arguments".to_string())),
        (None, Some(d)) if !direct_configured => (
            Some(d),
            Some(
                "Runtime.maxMemory(), read from the default direct-memory limit \
                 (jdk.internal.misc.VM.directMemory); wrong if -XX:MaxDirectMemorySize is set"
                    .to_string(),
            ),
        ),
        _ => (None, None),
    };
    let facts = JvmFacts {
        java_major: java_version
            .as_deref()
            .or(props.get("java.specification.version").map(|s| s.as_str()))
            .and_then(java_major),
        java_version,
        vendor: props
            .get("java.vm.vendor")
            .or(props.get("java.vendor"))
            .cloned(),
        vm_name: props.get("java.vm.name").cloned(),
        vm_version: props.get("java.vm.version").cloned(),
        collector,
        collector_source,
        command: props.get("sun.java.command").cloned(),
        compressed_oops_mode: props.get("java.vm.compressedOopsMode").cloned(),
        layout: index.layout().describe(),
        vm_args,
        env,
        properties: props
            .into_iter()
            .filter(|(k, _)| PROPERTY_KEYS.contains(&k.as_str()))
            .collect(),
        max_heap_bytes: max_heap,
        max_heap_source,
        initial_heap_bytes: flags.initial_heap,
        max_direct_memory_bytes: flags.max_direct_memory.or(direct),
        threads: index
            .threads()
            .iter()
            .filter(|t| t.object.is_some())
            .count() as u64,
        classes: index
            .classes()
            .classes
            .iter()
            .filter(|c| c.dump_offset.is_some())
            .count() as u64,
    };
    (facts, flags)
}

fn has(hints: &[Hint], rule: &str) -> bool {
    hints.iter().any(|h| h.rule == rule)
}

fn number(hints: &[Hint], rule: &str, key: &str) -> Option<u64> {
    hints
        .iter()
        .filter(|h| h.rule == rule)
        .find_map(|h| h.numbers.get(key).copied())
}

fn push(
    out: &mut Vec<FlagAdvice>,
    flag: &str,
    value: String,
    current: Option<String>,
    why: String,
    evidence: Vec<String>,
) {
    let setting = if flag.starts_with("-XX:+") || flag.starts_with("-XX:-") {
        flag.to_string()
    } else if flag.starts_with("-XX:") || flag.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
        format!("{flag}={value}")
    } else {
        format!("{flag}{value}")
    };
    out.push(FlagAdvice {
        flag: flag.to_string(),
        value,
        current,
        setting,
        why,
        evidence,
    });
}

/// JVM flag advice for an analysed dump and its hints.
pub fn jvm_advice(a: &Analysis, hints: &[Hint]) -> Advice {
    let (facts, flags) = jvm_facts(a);
    let live = a.dominators.reachable_bytes;
    let garbage = a.dominators.unreachable_bytes;
    let major = facts.java_major;
    let mut out = Vec::new();
    let mut cannot_tell = Vec::new();

    // Heap size from the live set.
    let suggested = round_heap(live.saturating_mul(4));
    let live_ev = format!(
        "live set (reachable objects): {} ({} bytes)",
        bytes(live),
        thousands(live)
    );
    let current_max = facts.max_heap_bytes;
    let (xmx, why) = match current_max {
        Some(m) if m >= live.saturating_mul(3) => (
            format_size(m),
            format!(
                "The current maximum heap ({}) is {:.1}× the live set: enough headroom (rule: \
                 3–4× the live set after a full GC). Keep it.",
                bytes(m),
                m as f64 / live.max(1) as f64
            ),
        ),
        Some(m) => (
            format_size(suggested),
            format!(
                "The current maximum heap ({}) is only {:.1}× the live set; the rule of thumb \
                 is 3–4× the live set after a full GC, so 4 × {} rounded up.",
                bytes(m),
                m as f64 / live.max(1) as f64,
                bytes(live)
            ),
        ),
        None => (
            format_size(suggested),
            format!(
                "Rule of thumb: 3–4× the live set after a full GC; 4 × {} rounded up. The \
                 configured maximum is not in this dump, so compare with your -Xmx.",
                bytes(live)
            ),
        ),
    };
    let mut ev = vec![live_ev.clone()];
    if let (Some(m), Some(src)) = (current_max, &facts.max_heap_source) {
        ev.push(format!("current maximum heap: {} ({src})", bytes(m)));
    }
    push(
        &mut out,
        "-Xmx",
        xmx.clone(),
        current_max.map(format_size),
        why,
        ev,
    );

    // Shrinking: much garbage and a heap that can grow and shrink.
    let garbage_case = has(hints, "garbage")
        || hints.iter().any(|h| {
            h.rule == "sessions"
                && (h.category == super::hints::Category::Garbage
                    || h.numbers.get("unreachable").copied().unwrap_or(0)
                        >= super::hints::sessions::MIN_SESSIONS)
        })
        || flags.max_heap_free_ratio == Some(100);
    let fixed_heap = matches!((flags.initial_heap, flags.max_heap), (Some(a), Some(b)) if a == b);
    if garbage_case && !fixed_heap {
        let ev = vec![
            format!("garbage (unreachable) in the dump: {}", bytes(garbage)),
            live_ev.clone(),
            match (flags.min_heap_free_ratio, flags.max_heap_free_ratio) {
                (None, None) => {
                    "current Min/MaxHeapFreeRatio: not in the dump (defaults 40/70)".to_string()
                }
                (mn, mx) => format!(
                    "current -XX:MinHeapFreeRatio={} -XX:MaxHeapFreeRatio={}",
                    mn.map_or("default".into(), |v| v.to_string()),
                    mx.map_or("default".into(), |v| v.to_string())
                ),
            },
        ];
        let base = format!(
            "{} of the dump is garbage next to a live set of {}: the heap grew far beyond what \
             the application keeps. After a GC the JVM shrinks the heap only while more than \
             MaxHeapFreeRatio percent of it is free; at 100 it never shrinks, so the process \
             keeps its peak memory (RSS) for good. {}",
            bytes(garbage),
            bytes(live),
            if facts.collector.as_deref() == Some("Parallel") {
                "Parallel GC honours these ratios only with -XX:-UseAdaptiveSizePolicy."
            } else {
                "G1 and Serial shrink after full GCs (G1 also at the end of concurrent marking, JDK 12+)."
            }
        );
        push(
            &mut out,
            "-XX:MinHeapFreeRatio",
            "10".into(),
            flags.min_heap_free_ratio.map(|v| v.to_string()),
            format!(
                "{base} Grow the heap only when less than 10% is free after a GC. The \
                 deliberate alternative is -Xms equal to -Xmx: a fixed heap that never grows or \
                 shrinks, which is fine when the memory is reserved for this JVM anyway."
            ),
            ev.clone(),
        );
        push(
            &mut out,
            "-XX:MaxHeapFreeRatio",
            "60".into(),
            flags.max_heap_free_ratio.map(|v| v.to_string()),
            "Shrink the heap after a GC when more than 60% of it is free, so memory taken \
             for garbage goes back to the OS."
                .to_string(),
            ev.clone(),
        );
        let g1 = facts.collector.as_deref().is_none_or(|c| c == "G1");
        if g1 && major.is_none_or(|m| m >= 12) {
            push(
                &mut out,
                "-XX:G1PeriodicGCInterval",
                "300000".into(),
                None,
                "An idle service rarely triggers a GC, so the garbage and the grown heap stay. \
                 With G1 on JDK 12+, a periodic concurrent cycle every 5 minutes of idleness \
                 collects the old generation and returns unused heap to the OS."
                    .to_string(),
                ev,
            );
        }
    } else {
        let why = if fixed_heap {
            "-Xms already equals -Xmx: the heap never resizes.".to_string()
        } else {
            "For a server, start with the heap it will need: no resizing pauses and no surprise \
             when the memory is not there later. (If memory must go back to the OS when \
             idle, keep -Xms lower and tune -XX:MaxHeapFreeRatio instead.)"
                .to_string()
        };
        push(
            &mut out,
            "-Xms",
            xmx.clone(),
            flags.initial_heap.map(format_size),
            why,
            vec![live_ev.clone()],
        );
    }

    // Native memory: malloc arenas, NMT, direct memory.
    let offheap = hints
        .iter()
        .any(|h| h.category == super::hints::Category::OffHeap);
    let threads = facts.threads;
    if offheap || threads >= 64 {
        let mut ev = vec![format!("live threads: {}", thousands(threads))];
        for h in hints
            .iter()
            .filter(|h| h.category == super::hints::Category::OffHeap)
        {
            ev.push(h.title.clone());
        }
        let current = facts.env.get("MALLOC_ARENA_MAX").cloned();
        push(
            &mut out,
            "MALLOC_ARENA_MAX",
            "2".into(),
            current.clone(),
            format!(
                "Native allocations (zlib Inflater/Deflater, NIO, JNI libraries) go through \
                 glibc malloc, which gives threads their own arenas of up to 64 MB (up to 8 per \
                 core): with {} threads RSS can grow far beyond the heap while the heap looks \
                 fine. Set it in the environment of the JVM (e.g. in setenv.sh); {}. \
                 Alternatively preload jemalloc or tcmalloc (LD_PRELOAD), which return memory \
                 to the OS more eagerly.",
                thousands(threads),
                match &current {
                    Some(v) => format!("it is currently {v}"),
                    None => "it is not set in this process's environment (or the environment \
                             was never read by Java)"
                        .into(),
                }
            ),
            ev.clone(),
        );
        push(
            &mut out,
            "-XX:NativeMemoryTracking",
            "summary".into(),
            None,
            "To see where native memory goes: run with NMT and compare `jcmd <pid> \
             VM.native_memory summary` with the process's RSS. What NMT does not show \
             (malloc from zlib or JNI libraries) is outside the JVM's own accounting."
                .to_string(),
            ev,
        );
    }
    if has(hints, "direct_buffers") {
        let cap = number(hints, "direct_buffers", "reachable_capacity_bytes").unwrap_or(0);
        let total = number(hints, "direct_buffers", "capacity_bytes").unwrap_or(0);
        let value = round_heap((cap.saturating_mul(2)).max(64 << 20));
        push(
            &mut out,
            "-XX:MaxDirectMemorySize",
            format_size(value),
            facts.max_direct_memory_bytes.map(format_size),
            format!(
                "Direct buffers in use hold {} (reachable) of {} owned in all; by default they \
                 may grow up to the maximum heap size outside the heap. Twice the reachable \
                 capacity, rounded up, caps them so a buffer leak fails fast with \
                 'OutOfMemoryError: Direct buffer memory' instead of growing RSS.",
                bytes(cap),
                bytes(total)
            ),
            vec![
                format!(
                    "reachable direct buffer capacity: {} ({} bytes)",
                    bytes(cap),
                    thousands(cap)
                ),
                format!("all direct buffer capacity: {}", bytes(total)),
            ],
        );
    }

    // Metaspace (PermGen before JDK 8) when class loaders leak.
    if has(hints, "classloader_leak") {
        let classes = facts.classes;
        let per_class = 16u64 << 10;
        let value = round_heap((classes * per_class * 2).max(256 << 20));
        let pre8 = major.is_some_and(|m| m < 8);
        let flag = if pre8 {
            "-XX:MaxPermSize"
        } else {
            "-XX:MaxMetaspaceSize"
        };
        push(
            &mut out,
            flag,
            format_size(value),
            if pre8 {
                flags.max_perm_size.map(format_size)
            } else {
                flags.max_metaspace.map(format_size)
            },
            format!(
                "Class loaders leak: every redeploy adds a copy of the application's classes. \
                 A cap does not fix the leak but turns unbounded native growth into a clear \
                 'OutOfMemoryError: {}' after a few redeploys. Sized as {} classes × ~16 KB × 2 \
                 (room for one more deploy), at least 256 MB.{}",
                if pre8 { "PermGen space" } else { "Metaspace" },
                thousands(classes),
                if pre8 {
                    ""
                } else {
                    " (Not -XX:MaxPermSize: PermGen is gone since JDK 8.)"
                }
            ),
            vec![
                format!("classes in the dump: {}", thousands(classes)),
                format!(
                    "leaked loaders: {}",
                    number(hints, "classloader_leak", "stopped_reachable").unwrap_or(0)
                ),
            ],
        );
    }
    if major.is_some_and(|m| m >= 8) && (flags.max_perm_size.is_some() || flags.perm_size.is_some())
    {
        push(
            &mut out,
            "-XX:MaxPermSize",
            "(remove)".into(),
            flags.max_perm_size.map(format_size),
            "PermGen was replaced by Metaspace in JDK 8: -XX:PermSize/-XX:MaxPermSize do \
             nothing there (newer JDKs refuse to start with them). Use -XX:MaxMetaspaceSize."
                .into(),
            vec![format!(
                "java.version: {}",
                facts.java_version.clone().unwrap_or_default()
            )],
        );
    }

    // Thread stacks.
    if has(hints, "many_threads") {
        let stack = flags.thread_stack.unwrap_or(1 << 20);
        let reserved = stack * threads;
        push(
            &mut out,
            "-Xss",
            "512k".into(),
            flags.thread_stack.map(format_size),
            format!(
                "{} threads × {} stack each = {} of address space reserved for stacks (committed \
                 as they are used). Shrinking the pools is the real fix; -Xss512k halves the \
                 reservation if no thread needs deep recursion (test it: too small a stack \
                 throws StackOverflowError).",
                thousands(threads),
                bytes(stack),
                bytes(reserved)
            ),
            vec![
                format!("live threads: {}", thousands(threads)),
                format!(
                    "thread stack size: {}{}",
                    bytes(stack),
                    if flags.thread_stack.is_none() {
                        " (default on 64-bit Linux; not in the dump)"
                    } else {
                        ""
                    }
                ),
            ],
        );
    }

    // What the dump cannot tell.
    if facts.max_heap_bytes.is_none() {
        cannot_tell.push(
            "The configured -Xmx/-Xms: a heap dump does not record JVM flags unless something \
             asked for them (RuntimeMXBean.getInputArguments(), as Tomcat's \
             VersionLoggerListener does). Check the command line (`jcmd <pid> VM.flags`)."
                .to_string(),
        );
    }
    if facts.collector.is_none() {
        cannot_tell.push(format!(
            "The garbage collector: not recorded in the dump.{}",
            match major {
                Some(m) if m >= 9 => " JDK 9+ uses G1 by default (Serial on machines with one \
                                      CPU or less than 1792 MB)."
                    .to_string(),
                Some(_) => " JDK 8 uses Parallel GC by default.".to_string(),
                None => String::new(),
            }
        ));
    }
    if facts.java_version.is_none() {
        cannot_tell.push("The Java version: no system properties found in the dump.".into());
    }
    cannot_tell.push(
        "How much native memory is in use (thread stacks, malloc arenas, zlib, Metaspace, code \
         cache, direct buffers' real usage): the dump only counts the Java objects that hold \
         it. Use -XX:NativeMemoryTracking and pmap."
            .into(),
    );
    cannot_tell.push(
        "GC history (young/full collection counts, pause times): use jstat -gcutil or GC logs \
         (-Xlog:gc*)."
            .into(),
    );
    cannot_tell.push("The container or machine memory limit and the process's RSS.".into());
    Advice {
        jvm: facts,
        live_set_bytes: live,
        garbage_bytes: garbage,
        flags: out,
        cannot_tell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_collectors() {
        assert_eq!(java_major("1.8.0_202"), Some(8));
        assert_eq!(java_major("17.0.15"), Some(17));
        assert_eq!(java_major("21"), Some(21));
        assert_eq!(collector_from_bean("G1 Young Generation"), Some("G1"));
        assert_eq!(collector_from_bean("PS MarkSweep"), Some("Parallel"));
        assert_eq!(collector_from_bean("bogus"), None);
    }
}
