//! How the JVM lays objects out, which the dump does not say: the JDK generation (from the
//! classes the dump holds), header and reference sizes, array base offsets and alignment (by
//! which candidate makes the most address-adjacent objects fill the gap to their successor),
//! and per-class corrections where the addresses contradict the computed size.

use super::classes::{ClassIndex, ClassKind, ClassTable};
use super::fields::{self, Params};
use super::vm::{self, Jdk};
use crate::hprof::BasicType;

/// Header and reference shape of a VM's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Shape {
    /// 64-bit, compressed oops and class pointers: the default for heaps under 32 GB.
    Compressed,
    /// 64-bit, uncompressed oops, compressed class pointers (JDK 15+ big heaps).
    WideRefs,
    /// 64-bit with nothing compressed.
    Uncompressed,
    /// Compressed oops without compressed class pointers.
    WideClassPointer,
    /// JDK 24+ compact object headers, compressed oops.
    Compact,
    /// JDK 24+ compact object headers, uncompressed oops.
    CompactWideRefs,
    /// A 32-bit VM (4-byte identifiers).
    Bits32,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Compressed => "64-bit, compressed oops and class pointers",
            Shape::WideRefs => "64-bit, uncompressed oops, compressed class pointers",
            Shape::Uncompressed => "64-bit, uncompressed oops and class pointers",
            Shape::WideClassPointer => "64-bit, compressed oops, uncompressed class pointers",
            Shape::Compact => "64-bit, compact object headers, compressed oops",
            Shape::CompactWideRefs => "64-bit, compact object headers, uncompressed oops",
            Shape::Bits32 => "32-bit",
        }
    }

    /// (header, reference, array base, array base for 8-byte elements, word).
    fn sizes(self) -> (u32, u32, u32, u32, u32) {
        match self {
            Shape::Compressed => (12, 4, 16, 16, 8),
            Shape::WideRefs => (12, 8, 16, 16, 8),
            Shape::Uncompressed => (16, 8, 24, 24, 8),
            Shape::WideClassPointer => (16, 4, 24, 24, 8),
            Shape::Compact => (8, 4, 12, 16, 8),
            Shape::CompactWideRefs => (8, 8, 12, 16, 8),
            Shape::Bits32 => (8, 4, 12, 16, 4),
        }
    }
}

/// What the dump's object addresses say about the layout.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddressEvidence {
    /// Address-adjacent pairs of sampled objects.
    pub pairs: u64,
    /// Pairs whose gap equals the first object's computed size.
    pub matching: u64,
    /// Classes whose size was taken from the addresses because the layout contradicted
    /// them: (class, computed size, size from the addresses).
    pub corrected: Vec<(ClassIndex, u32, u32)>,
}

/// How the JDK generation was chosen: the dump's `java.version` when it has one whose rules
/// are known, else the class shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JdkChoice {
    /// `java.version` from the dump's system properties, when present.
    pub java_version: Option<String>,
    /// The property was used (rather than the class shapes).
    pub from_property: bool,
    /// What the class shapes alone point to, and why: `JDK 15-18 (String has hashIsZero; …)`.
    pub class_shapes: String,
    /// The property and the class shapes name different generations: both, and which won.
    pub disagreement: Option<String>,
}

/// Object layout of the dumped JVM.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectLayout {
    pub shape: Shape,
    /// The JDK generation whose field layout, injected fields and `@Contended` apply.
    pub jdk: Jdk,
    /// Why that generation.
    pub jdk_reason: std::borrow::Cow<'static, str>,
    /// Property or class shapes, and whether they disagreed.
    pub jdk_choice: JdkChoice,
    /// Bytes of an object header before the first field.
    pub header: u32,
    /// Bytes of a reference field or element (4 with compressed oops).
    pub reference: u32,
    /// Offset of the first element of an array whose elements are 4 bytes or smaller.
    pub array_base: u32,
    /// Offset of the first element of an array of 8-byte elements.
    pub array_base_wide: u32,
    /// Machine word size.
    pub word: u32,
    /// Objects start at multiples of this (ObjectAlignmentInBytes).
    pub alignment: u32,
    pub evidence: AddressEvidence,
}

impl ObjectLayout {
    pub fn new(shape: Shape, jdk: Jdk, alignment: u32) -> ObjectLayout {
        let (header, reference, array_base, array_base_wide, word) = shape.sizes();
        ObjectLayout {
            shape,
            jdk,
            jdk_reason: "assumed".into(),
            jdk_choice: JdkChoice::default(),
            header,
            reference,
            array_base,
            array_base_wide,
            word,
            alignment,
            evidence: AddressEvidence::default(),
        }
    }

    /// HotSpot 17, 64-bit, compressed oops and class pointers.
    pub fn compressed() -> ObjectLayout {
        ObjectLayout::new(Shape::Compressed, Jdk::Jdk17, 8)
    }

    /// The field layout rules in one phrase.
    pub fn field_rules(&self) -> &'static str {
        if self.jdk.packs_fields() {
            "JDK 15+ field packing"
        } else {
            "pre-JDK 15 field grouping"
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} layout, {} (header {} B, references {} B, alignment {} B)",
            self.jdk.name(),
            self.shape.name(),
            self.header,
            self.reference,
            self.alignment
        )
    }

    #[inline]
    pub fn align(&self, n: u64) -> u64 {
        let a = self.alignment as u64;
        n.div_ceil(a) * a
    }

    /// Size of a value of `ty` in a field or array element.
    #[inline]
    pub fn value_size(&self, ty: BasicType) -> u32 {
        match ty {
            BasicType::Object => self.reference,
            t => t.primitive_size() as u32,
        }
    }

    /// Shallow size of an array of `len` elements of `elem`.
    #[inline]
    pub fn array_size(&self, elem: BasicType, len: u32) -> u64 {
        let esize = self.value_size(elem) as u64;
        let base = if esize == 8 {
            self.array_base_wide
        } else {
            self.array_base
        };
        self.align(base as u64 + esize * len as u64)
    }

    fn params(&self) -> Params {
        Params {
            header: self.header,
            oop: self.reference,
            word: self.word,
            alignment: self.alignment,
            jdk: self.jdk,
        }
    }

    /// Shallow size of one instance of every class (with injected fields, `@Contended`
    /// padding and the corrections the addresses asked for); arrays get 0.
    pub fn instance_sizes(&self, classes: &ClassTable) -> Vec<u32> {
        let mut sizes = fields::instance_sizes(classes, &self.params());
        for (c, size) in sizes.iter_mut().enumerate() {
            if classes.classes[c].is_array() {
                *size = 0;
            }
        }
        for &(c, _, size) in &self.evidence.corrected {
            if let Some(s) = sizes.get_mut(c as usize) {
                *s = size;
            }
        }
        sizes
    }

    /// Shallow size of one instance of class `i`.
    pub fn instance_size(&self, classes: &ClassTable, i: ClassIndex) -> u32 {
        self.instance_sizes(classes)
            .get(i as usize)
            .copied()
            .unwrap_or(0)
    }

    /// Shallow size of a class object: a `java.lang.Class` instance plus its static fields.
    pub fn class_object_size(&self, classes: &ClassTable, class: ClassIndex) -> u32 {
        let base = classes.get(classes.class_class).instance_size as u64;
        let statics: u64 = classes
            .get(class)
            .statics
            .iter()
            .map(|s| self.value_size(value_type(&s.value)) as u64)
            .sum();
        self.align(base + statics).min(u32::MAX as u64) as u32
    }
}

fn value_type(v: &crate::hprof::Value) -> BasicType {
    use crate::hprof::Value::*;
    match v {
        Object(_) => BasicType::Object,
        Boolean(_) => BasicType::Boolean,
        Char(_) => BasicType::Char,
        Float(_) => BasicType::Float,
        Double(_) => BasicType::Double,
        Byte(_) => BasicType::Byte,
        Short(_) => BasicType::Short,
        Int(_) => BasicType::Int,
        Long(_) => BasicType::Long,
    }
}

/// One object for layout voting: its address, class, and array length.
pub struct LayoutSample {
    pub address: u64,
    pub class: ClassIndex,
    pub length: u32,
}

/// Decides the layout: the JDK generation from the classes, then the shape (and, between
/// JDK 14 and 15, the field rules) under which the most address-adjacent objects exactly fill
/// the gap to their successor (TLAB allocation makes most neighbours contiguous), then
/// corrections for classes whose neighbours contradict their computed size.
pub fn detect(id_size: usize, classes: &ClassTable, samples: &[LayoutSample]) -> ObjectLayout {
    let (jdk, jdk_reason) = vm::guess(classes);
    // The generation's own rules first: the other rules must win outright (JDK 13 and 14
    // have JDK 15's String but the older field layout).
    let jdks: &[Jdk] = match jdk {
        Jdk::Jdk11 => &[Jdk::Jdk11, Jdk::Jdk17],
        Jdk::Jdk17 => &[Jdk::Jdk17, Jdk::Jdk11],
        _ => std::slice::from_ref(&jdk),
    };
    let mut layout = detect_among(id_size, classes, samples, jdks);
    layout.jdk_reason = if layout.jdk == jdk {
        format!("class shapes: {jdk_reason}").into()
    } else {
        format!(
            "class shapes: {jdk_reason}, which fits {} and {}; the addresses fit {}'s field \
             layout rules better",
            Jdk::Jdk11.name(),
            Jdk::Jdk17.name(),
            layout.jdk.name()
        )
        .into()
    };
    layout.jdk_choice = JdkChoice {
        class_shapes: format!("{} ({jdk_reason})", jdk.name()),
        ..JdkChoice::default()
    };
    layout
}

/// Checks the generation told from the class shapes against the dump's own `java.version`
/// (read from its system properties once objects can be read). The property wins where
/// heapsight knows its release's layout rules: the layout is then detected again under them.
pub fn cross_check(
    layout: ObjectLayout,
    java_version: Option<&str>,
    id_size: usize,
    classes: &ClassTable,
    samples: &[LayoutSample],
) -> ObjectLayout {
    let Some(version) = java_version else {
        return layout;
    };
    let mut layout = layout;
    layout.jdk_choice.java_version = Some(version.to_string());
    let major = vm::java_major(version);
    let Some(stated) = major.and_then(Jdk::for_major) else {
        layout.jdk_reason = format!(
            "{}; java.version {version} names a release whose layout rules heapsight does not \
             know, so the class shapes decide",
            layout.jdk_reason
        )
        .into();
        return layout;
    };
    if major.is_some_and(|m| layout.jdk.covers(m)) {
        layout.jdk_reason = format!(
            "java.version {version} (system properties); the {}",
            layout
                .jdk_reason
                .replacen("class shapes: ", "class shapes agree: ", 1)
        )
        .into();
        layout.jdk_choice.from_property = true;
        return layout;
    }
    let shapes = layout.jdk_choice.class_shapes.clone();
    let mut fixed = detect_among(id_size, classes, samples, &[stated]);
    fixed.jdk_reason = format!(
        "java.version {version} (system properties), over the class shapes, which point to \
         {shapes}"
    )
    .into();
    fixed.jdk_choice = JdkChoice {
        java_version: Some(version.to_string()),
        from_property: true,
        class_shapes: shapes.clone(),
        disagreement: Some(format!(
            "java.version {version} says {} but the class shapes say {shapes}; {}'s layout \
             rules are used",
            stated.name(),
            stated.name()
        )),
    };
    fixed
}

/// The best layout under the rules of `jdks`: the shape (and generation) under which the most
/// address-adjacent sampled objects sit exactly their computed size apart, with the
/// corrections the addresses ask for.
fn detect_among(
    id_size: usize,
    classes: &ClassTable,
    samples: &[LayoutSample],
    jdks: &[Jdk],
) -> ObjectLayout {
    let alignment = detect_alignment(samples);
    let mut best: Option<(u64, ObjectLayout, Vec<u32>)> = None;
    for &j in jdks {
        for &shape in shapes_for(j, id_size) {
            let layout = ObjectLayout::new(shape, j, alignment);
            let sizes = layout.instance_sizes(classes);
            let hits = matching_pairs(&layout, classes, &sizes, samples);
            if best.as_ref().is_none_or(|b| hits > b.0) {
                best = Some((hits, layout, sizes));
            }
        }
    }
    let Some((matching, mut layout, sizes)) = best else {
        return ObjectLayout::compressed();
    };
    let pairs = pairs(classes, samples).count() as u64;
    // Addresses overrule the rules only where they are a heap's (most neighbours touch);
    // a dump with made-up addresses keeps the computed sizes.
    let trusted = pairs >= 1000 && matching * 10 >= pairs * 8;
    layout.evidence = AddressEvidence {
        pairs,
        matching,
        corrected: if trusted {
            corrections(&layout, classes, &sizes, samples)
        } else {
            Vec::new()
        },
    };
    layout
}

/// Address-adjacent pairs whose first object has a computable size (not a class mirror).
fn pairs<'s>(
    classes: &'s ClassTable,
    samples: &'s [LayoutSample],
) -> impl Iterator<Item = (&'s LayoutSample, &'s LayoutSample)> + 's {
    samples
        .windows(2)
        .filter(move |w| w[0].class != classes.class_class)
        .map(|w| (&w[0], &w[1]))
}

/// The shapes a generation's VMs can have, the default first. Before JDK 15 compressed class
/// pointers need compressed oops; compact headers exist from JDK 24.
fn shapes_for(jdk: Jdk, id_size: usize) -> &'static [Shape] {
    if id_size == 4 {
        &[Shape::Bits32]
    } else if jdk >= Jdk::Jdk25 {
        &[
            Shape::Compressed,
            Shape::WideRefs,
            Shape::Compact,
            Shape::CompactWideRefs,
            Shape::Uncompressed,
            Shape::WideClassPointer,
        ]
    } else if jdk >= Jdk::Jdk17 {
        &[
            Shape::Compressed,
            Shape::WideRefs,
            Shape::Uncompressed,
            Shape::WideClassPointer,
        ]
    } else {
        &[
            Shape::Compressed,
            Shape::Uncompressed,
            Shape::WideClassPointer,
        ]
    }
}

fn sample_size(
    layout: &ObjectLayout,
    classes: &ClassTable,
    sizes: &[u32],
    s: &LayoutSample,
) -> u64 {
    match classes.get(s.class).kind {
        ClassKind::Instance => sizes[s.class as usize] as u64,
        ClassKind::ObjectArray => layout.array_size(BasicType::Object, s.length),
        ClassKind::PrimitiveArray(t) => layout.array_size(t, s.length),
    }
}

fn matching_pairs(
    layout: &ObjectLayout,
    classes: &ClassTable,
    sizes: &[u32],
    samples: &[LayoutSample],
) -> u64 {
    pairs(classes, samples)
        .filter(|(a, b)| {
            b.address.wrapping_sub(a.address) == sample_size(layout, classes, sizes, a)
        })
        .count() as u64
}

/// Instance classes whose sampled neighbours never sit at the computed size but repeatedly
/// at one smaller or larger gap: the VM laid them out differently (an injected field or
/// padding this version has and the tables do not know). A gap below the computed size is
/// proof on its own (an object cannot overlap the next); a larger one must repeat.
fn corrections(
    layout: &ObjectLayout,
    classes: &ClassTable,
    sizes: &[u32],
    samples: &[LayoutSample],
) -> Vec<(ClassIndex, u32, u32)> {
    // Per class: pairs at the computed size, smallest gap and how often it occurs.
    let mut seen: Vec<(u32, u64, u32)> = vec![(0, u64::MAX, 0); classes.len()];
    for (a, b) in pairs(classes, samples) {
        let c = a.class as usize;
        if classes.classes[c].kind != ClassKind::Instance {
            continue;
        }
        let gap = b.address.wrapping_sub(a.address);
        let entry = &mut seen[c];
        if gap == sizes[c] as u64 {
            entry.0 += 1;
        } else if gap < entry.1 {
            *entry = (entry.0, gap, 1);
        } else if gap == entry.1 {
            entry.2 += 1;
        }
    }
    let max_size = 1u64 << 20;
    seen.iter()
        .enumerate()
        .filter_map(|(c, &(at_size, min_gap, times))| {
            let computed = sizes[c] as u64;
            let plausible = min_gap >= layout.header as u64
                && min_gap < max_size
                && min_gap % layout.alignment as u64 == 0;
            let convincing = (min_gap < computed && times >= 2) || times >= 3;
            (at_size == 0 && plausible && convincing).then_some((
                c as ClassIndex,
                computed as u32,
                min_gap as u32,
            ))
        })
        .collect()
}

fn detect_alignment(samples: &[LayoutSample]) -> u32 {
    if samples.len() < 1000 {
        return 8;
    }
    let bits = samples.iter().fold(0u64, |acc, s| acc | s.address);
    (1u64 << bits.trailing_zeros().min(63)).clamp(8, 256) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::classes::{ClassInfo, FieldInfo};

    fn class(name: &str, sup: Option<u32>, fields: &[(&str, BasicType)]) -> ClassInfo {
        ClassInfo {
            id: 0,
            name: name.into(),
            kind: ClassKind::Instance,
            super_class: sup,
            loader_id: 0,
            fields: fields
                .iter()
                .map(|(n, t)| FieldInfo {
                    name: (*n).into(),
                    ty: *t,
                })
                .collect(),
            statics: vec![],
            instance_size: 0,
            dump_offset: None,
        }
    }

    #[test]
    fn hotspot_sizes_with_compressed_oops() {
        use BasicType::*;
        let table = ClassTable {
            classes: vec![
                class("java.lang.Object", None, &[]),
                class(
                    "java.lang.String",
                    Some(0),
                    &[
                        ("value", Object),
                        ("hash", Int),
                        ("coder", Byte),
                        ("hashIsZero", Boolean),
                    ],
                ),
                class("java.lang.ClassLoader", Some(0), &[("parent", Object)]),
                class("Node", Some(0), &[("next", Object), ("value", Long)]),
            ],
            ..Default::default()
        };
        let l = ObjectLayout::compressed();
        assert_eq!(l.instance_size(&table, 0), 16);
        assert_eq!(l.instance_size(&table, 1), 24);
        assert_eq!(l.instance_size(&table, 2), 24);
        assert_eq!(l.instance_size(&table, 3), 24);
        assert_eq!(l.array_size(Int, 0), 16);
        assert_eq!(l.array_size(Int, 3), 32);
        assert_eq!(l.array_size(Object, 5), 40);
        assert_eq!(l.array_size(Byte, 9), 32);
        let u = ObjectLayout::new(Shape::Uncompressed, Jdk::Jdk17, 8);
        assert_eq!(u.instance_size(&table, 3), 32);
        assert_eq!(u.array_size(Object, 1), 32);
    }
}
