//! Which HotSpot generation wrote a dump, told from the classes it holds, and what that
//! generation adds to the fields a dump describes: fields the VM injects into JDK classes
//! (`javaClasses.hpp`) and the `@Contended` annotations it honours in JDK classes.

use super::classes::ClassTable;

/// A HotSpot generation, as far as object sizes are concerned.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Jdk {
    /// JDK 5 and 6 (and 7 before update 6): `String` has `offset` and `count`.
    Jdk6,
    /// JDK 7: no injected `ClassLoader` field.
    Jdk7,
    /// JDK 8: `ClassLoader.loader_data`, `sun.misc.Contended`.
    Jdk8,
    /// JDK 9 to 14: modules, `String.coder`, the field layout of `classFileParser.cpp`.
    Jdk11,
    /// JDK 15 to 18: `fieldLayoutBuilder.cpp` (packing, back-filling into superclasses).
    Jdk17,
    /// JDK 19 to 23: virtual threads (`Thread.holder`), `Thread` without contended fields.
    Jdk21,
    /// JDK 24 and later: no security manager, compact object headers possible.
    Jdk25,
}

impl Jdk {
    pub fn name(self) -> &'static str {
        match self {
            Jdk::Jdk6 => "JDK 5/6",
            Jdk::Jdk7 => "JDK 7",
            Jdk::Jdk8 => "JDK 8",
            Jdk::Jdk11 => "JDK 9-14",
            Jdk::Jdk17 => "JDK 15-18",
            Jdk::Jdk21 => "JDK 19-23",
            Jdk::Jdk25 => "JDK 24+",
        }
    }

    /// The generation whose layout rules a feature release (`java.version`'s major) follows;
    /// `None` for releases heapsight knows no rules for (before JDK 5, after JDK 25).
    pub fn for_major(major: u32) -> Option<Jdk> {
        Some(match major {
            5 | 6 => Jdk::Jdk6,
            7 => Jdk::Jdk7,
            8 => Jdk::Jdk8,
            9..=14 => Jdk::Jdk11,
            15..=18 => Jdk::Jdk17,
            19..=23 => Jdk::Jdk21,
            24..=25 => Jdk::Jdk25,
            _ => return None,
        })
    }

    /// Whether release `major` has this generation's layout rules (JDK 7 before update 6
    /// still has JDK 6's `String`, whose rules are the same).
    pub fn covers(self, major: u32) -> bool {
        Jdk::for_major(major) == Some(self) || (self == Jdk::Jdk6 && major == 7)
    }

    /// Field layout of JDK 15+ (`fieldLayoutBuilder.cpp`) rather than the older grouping.
    pub fn packs_fields(self) -> bool {
        self >= Jdk::Jdk17
    }
}

/// The feature release of a `java.version`: `1.8.0_202` → 8, `17.0.15` → 17, `21` → 21.
pub fn java_major(version: &str) -> Option<u32> {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// The generation the dump's classes point to, and the evidence.
pub fn guess(classes: &ClassTable) -> (Jdk, &'static str) {
    let has_class = |name: &str| classes.by_name(name).next().is_some();
    let has_field = |class: &str, field: &str| {
        classes
            .by_name(class)
            .any(|c| classes.get(c).fields.iter().any(|f| &*f.name == field))
    };
    if has_field("java.lang.String", "offset") && has_field("java.lang.String", "count") {
        return (Jdk::Jdk6, "String has offset and count fields");
    }
    if has_field("java.lang.String", "hash32") {
        return (Jdk::Jdk7, "String has a hash32 field (JDK 7u6-7u40)");
    }
    if !has_field("java.lang.String", "coder") {
        if has_class("java.util.HashMap$Node") {
            return (Jdk::Jdk8, "String without coder; HashMap$Node exists");
        }
        return (Jdk::Jdk7, "String without coder; no HashMap$Node");
    }
    if !has_field("java.lang.String", "hashIsZero") {
        return (Jdk::Jdk11, "String has coder but no hashIsZero");
    }
    if !has_field("java.lang.Thread", "holder") {
        return (
            Jdk::Jdk17,
            "String has hashIsZero; Thread has no holder field",
        );
    }
    // JDK 24 removed the security manager's hooks from Thread.
    if has_field("java.lang.Thread", "inheritedAccessControlContext") {
        return (
            Jdk::Jdk21,
            "Thread has holder and inheritedAccessControlContext fields",
        );
    }
    (
        Jdk::Jdk25,
        "Thread has a holder field but no inheritedAccessControlContext",
    )
}

/// A field the VM adds to a class, invisible in the dump's class description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// A reference.
    Oop,
    /// A native pointer (`intptr_t`): a word.
    Pointer,
    /// A primitive of this many bytes.
    Bytes(u8),
}

/// Fields HotSpot injects into `class` (`*_INJECTED_FIELDS` in `javaClasses.hpp`).
/// `java.lang.Class` is left out: its instances are sized apart.
pub fn injected(jdk: Jdk, class: &str) -> &'static [Injected] {
    use Injected::*;
    match (class, jdk) {
        ("java.lang.ClassLoader", j) if j >= Jdk::Jdk8 => &[Pointer],
        ("java.lang.invoke.MemberName", Jdk::Jdk7 | Jdk::Jdk8) => &[Oop, Pointer, Pointer],
        ("java.lang.invoke.MemberName", j) if j >= Jdk::Jdk11 => &[Pointer],
        ("java.lang.invoke.MethodHandleNatives$CallSiteContext", Jdk::Jdk8 | Jdk::Jdk11) => {
            &[Pointer]
        }
        ("java.lang.invoke.MethodHandleNatives$CallSiteContext", Jdk::Jdk17 | Jdk::Jdk21) => {
            &[Pointer, Bytes(8)]
        }
        // JDK 24 moved the call-site dependencies from CallSiteContext into CallSite.
        ("java.lang.invoke.CallSite", Jdk::Jdk25) => &[Pointer, Bytes(8)],
        // JDK 24 made vmholder a Java field.
        ("java.lang.invoke.ResolvedMethodName", Jdk::Jdk25) => &[Pointer],
        ("java.lang.invoke.ResolvedMethodName", j) if j >= Jdk::Jdk11 => &[Oop, Pointer],
        // jvmti_thread_state, jvmti_VTMS_transition_disable_count,
        // jvmti_is_in_VTMS_transition and jfr_epoch, since virtual threads.
        ("java.lang.Thread", j) if j >= Jdk::Jdk21 => &[Pointer, Bytes(4), Bytes(1), Bytes(2)],
        ("java.lang.Module", j) if j >= Jdk::Jdk11 => &[Pointer],
        ("java.lang.StackFrameInfo", j) if j >= Jdk::Jdk11 => &[Bytes(2)],
        ("java.lang.InternalError", j) if j >= Jdk::Jdk17 => &[Bytes(1)],
        ("java.lang.String", j) if j >= Jdk::Jdk17 => &[Bytes(1)],
        _ => &[],
    }
}

/// How a JDK class uses `@Contended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contended {
    None,
    /// These fields form one named group, padded apart from the rest.
    Group(&'static [&'static str]),
    /// The whole class is padded.
    WholeClass,
}

/// The `@Contended` annotations of JDK classes (honoured by default only in JDK classes).
pub fn contended(jdk: Jdk, class: &str) -> Contended {
    const TLR: &[&str] = &[
        "threadLocalRandomSeed",
        "threadLocalRandomProbe",
        "threadLocalRandomSecondarySeed",
    ];
    if jdk <= Jdk::Jdk7 {
        return Contended::None;
    }
    match class {
        "java.lang.Thread" if jdk <= Jdk::Jdk17 => Contended::Group(TLR),
        "java.util.concurrent.ConcurrentHashMap$CounterCell"
        | "java.util.concurrent.atomic.Striped64$Cell"
        | "java.util.concurrent.Exchanger$Node" => Contended::WholeClass,
        "java.util.concurrent.ForkJoinPool" if jdk == Jdk::Jdk8 => Contended::WholeClass,
        "java.util.concurrent.ForkJoinPool" => Contended::Group(&["ctl", "parallelism"]),
        "java.util.concurrent.ForkJoinPool$WorkQueue" if jdk <= Jdk::Jdk11 => Contended::WholeClass,
        "java.util.concurrent.ForkJoinPool$WorkQueue" => Contended::Group(match jdk {
            Jdk::Jdk17 => &["array", "stackPred", "base", "top"],
            Jdk::Jdk21 => &["top", "access", "phase", "source", "nsteals"],
            _ => &["top", "phase", "stackPred", "source", "nsteals", "parking"],
        }),
        "java.util.concurrent.SubmissionPublisher$BufferedSubscription" if jdk >= Jdk::Jdk11 => {
            Contended::Group(&["array", "head", "tail", "ctl", "demand", "waiting"])
        }
        _ => Contended::None,
    }
}
