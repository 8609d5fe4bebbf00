//! How the JVM lays objects out, which the dump does not say: reference size, header size,
//! array base offset and alignment are inferred from the dump (see `detect`).

use super::classes::{ClassIndex, ClassKind, ClassTable};
use crate::hprof::BasicType;

/// Object layout parameters of the dumped JVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectLayout {
    /// Bytes of an object header before the first field.
    pub header: u32,
    /// Bytes of a reference field or element (4 with compressed oops).
    pub reference: u32,
    /// Offset of the first element of an array whose elements are 4 bytes or smaller.
    pub array_base: u32,
    /// Offset of the first element of an array of 8-byte elements.
    pub array_base_wide: u32,
    /// Objects start at multiples of this (ObjectAlignmentInBytes).
    pub alignment: u32,
}

impl ObjectLayout {
    /// HotSpot 64-bit, compressed oops and class pointers: the default for heaps under 32 GB.
    pub const COMPRESSED: ObjectLayout = ObjectLayout {
        header: 12,
        reference: 4,
        array_base: 16,
        array_base_wide: 16,
        alignment: 8,
    };
    /// 64-bit without compressed oops, with compressed class pointers (JDK 15+ big heaps).
    pub const WIDE_REFS: ObjectLayout = ObjectLayout {
        header: 12,
        reference: 8,
        array_base: 16,
        array_base_wide: 16,
        alignment: 8,
    };
    /// 64-bit with nothing compressed.
    pub const UNCOMPRESSED: ObjectLayout = ObjectLayout {
        header: 16,
        reference: 8,
        array_base: 24,
        array_base_wide: 24,
        alignment: 8,
    };
    /// Compressed oops without compressed class pointers.
    pub const WIDE_CLASS_POINTER: ObjectLayout = ObjectLayout {
        header: 16,
        reference: 4,
        array_base: 24,
        array_base_wide: 24,
        alignment: 8,
    };
    /// JDK 24+ compact object headers.
    pub const COMPACT_HEADERS: ObjectLayout = ObjectLayout {
        header: 8,
        reference: 4,
        array_base: 12,
        array_base_wide: 16,
        alignment: 8,
    };
    /// 32-bit JVMs (4-byte identifiers).
    pub const BITS32: ObjectLayout = ObjectLayout {
        header: 8,
        reference: 4,
        array_base: 12,
        array_base_wide: 16,
        alignment: 8,
    };

    pub fn describe(&self) -> String {
        let name = match *self {
            l if l.same_shape(&Self::COMPRESSED) => "compressed oops and class pointers",
            l if l.same_shape(&Self::WIDE_REFS) => "uncompressed oops, compressed class pointers",
            l if l.same_shape(&Self::UNCOMPRESSED) => "uncompressed oops and class pointers",
            l if l.same_shape(&Self::WIDE_CLASS_POINTER) => {
                "compressed oops, uncompressed class pointers"
            }
            l if l.same_shape(&Self::COMPACT_HEADERS) => "compact object headers",
            _ => "32-bit",
        };
        format!(
            "{name} (header {} B, references {} B, alignment {} B)",
            self.header, self.reference, self.alignment
        )
    }

    fn same_shape(&self, o: &ObjectLayout) -> bool {
        self.header == o.header
            && self.reference == o.reference
            && self.array_base == o.array_base
            && self.array_base_wide == o.array_base_wide
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

    /// Shallow size of an instance of class `i`, with HotSpot's injected fields and
    /// `@Contended` padding for the JDK classes that have them.
    pub fn instance_size(&self, classes: &ClassTable, i: ClassIndex) -> u32 {
        // Lay out the superclass chain from java.lang.Object down.
        let chain: Vec<ClassIndex> = classes.chain(i).collect();
        let mut end = self.header as u64;
        for &c in chain.iter().rev() {
            let class = classes.get(c);
            let mut own: u64 = class
                .fields
                .iter()
                .map(|f| self.value_size(f.ty) as u64)
                .sum();
            own += injected_bytes(&class.name, self.reference);
            match contended(&class.name) {
                Contended::None => end += own,
                Contended::Fields(names) => {
                    let (group, rest): (Vec<_>, Vec<_>) =
                        class.fields.iter().partition(|f| names.contains(&&*f.name));
                    let plain: u64 = rest.iter().map(|f| self.value_size(f.ty) as u64).sum();
                    end += plain + injected_bytes(&class.name, self.reference);
                    if !group.is_empty() {
                        let widest = group.iter().map(|f| self.value_size(f.ty)).max();
                        let widest = widest.unwrap_or(1) as u64;
                        let start = (end + CONTENDED_PADDING).div_ceil(widest) * widest;
                        let size: u64 = group.iter().map(|f| self.value_size(f.ty) as u64).sum();
                        end = start + size + CONTENDED_PADDING;
                    }
                }
                Contended::WholeClass => {
                    let widest = class.fields.iter().map(|f| self.value_size(f.ty)).max();
                    let widest = widest.unwrap_or(1) as u64;
                    let start = (end + CONTENDED_PADDING).div_ceil(widest) * widest;
                    end = start + own + CONTENDED_PADDING;
                }
            }
        }
        self.align(end).min(u32::MAX as u64) as u32
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

const CONTENDED_PADDING: u64 = 128;

/// Fields HotSpot injects into JDK classes; the dump's class descriptions do not show them.
fn injected_bytes(class: &str, reference: u32) -> u64 {
    match class {
        "java.lang.ClassLoader" => 8,
        "java.lang.Module" => 8,
        "java.lang.invoke.MemberName" => 8,
        // vmtarget (a native pointer) and vmholder (a reference).
        "java.lang.invoke.ResolvedMethodName" => 8 + reference as u64,
        "java.lang.invoke.MethodHandleNatives$CallSiteContext" => 16,
        "java.lang.StackFrameInfo" => 2,
        "java.lang.InternalError" => 1,
        "java.lang.String" => 1,
        _ => 0,
    }
}

enum Contended {
    None,
    Fields(&'static [&'static str]),
    WholeClass,
}

/// JDK classes whose `@Contended` annotations the JVM honours by default.
fn contended(class: &str) -> Contended {
    match class {
        "java.lang.Thread" => Contended::Fields(&[
            "threadLocalRandomSeed",
            "threadLocalRandomProbe",
            "threadLocalRandomSecondarySeed",
        ]),
        "java.util.concurrent.ForkJoinPool" => Contended::Fields(&["ctl", "parallelism"]),
        "java.util.concurrent.ForkJoinPool$WorkQueue" => {
            Contended::Fields(&["array", "stackPred", "base", "top"])
        }
        "java.util.concurrent.SubmissionPublisher$BufferedSubscription" => {
            Contended::Fields(&["array", "head", "tail", "ctl", "demand", "waiting"])
        }
        "java.util.concurrent.ConcurrentHashMap$CounterCell"
        | "java.util.concurrent.atomic.Striped64$Cell"
        | "java.util.concurrent.Exchanger$Node" => Contended::WholeClass,
        _ => Contended::None,
    }
}

/// One object for layout voting: its address, class, and array length.
pub struct LayoutSample {
    pub address: u64,
    pub class: ClassIndex,
    pub length: u32,
}

/// Picks the layout under which the most address-adjacent objects exactly fill the gap to
/// their successor (TLAB allocation makes most neighbours contiguous).
pub fn detect(id_size: usize, classes: &ClassTable, samples: &[LayoutSample]) -> ObjectLayout {
    if id_size == 4 {
        return ObjectLayout::BITS32;
    }
    let alignment = detect_alignment(samples);
    let candidates = [
        ObjectLayout::COMPRESSED,
        ObjectLayout::WIDE_REFS,
        ObjectLayout::UNCOMPRESSED,
        ObjectLayout::WIDE_CLASS_POINTER,
        ObjectLayout::COMPACT_HEADERS,
    ];
    let mut best = (
        0usize,
        ObjectLayout {
            alignment,
            ..ObjectLayout::COMPRESSED
        },
    );
    for cand in candidates {
        let layout = ObjectLayout { alignment, ..cand };
        let mut table = classes.clone();
        for c in 0..table.classes.len() {
            let size = layout.instance_size(classes, c as ClassIndex);
            table.classes[c].instance_size = size;
        }
        let size_of = |s: &LayoutSample| -> u64 {
            match table.get(s.class).kind {
                ClassKind::Instance => table.get(s.class).instance_size as u64,
                ClassKind::ObjectArray => layout.array_size(BasicType::Object, s.length),
                ClassKind::PrimitiveArray(t) => layout.array_size(t, s.length),
            }
        };
        let hits = samples
            .windows(2)
            .filter(|w| w[1].address.wrapping_sub(w[0].address) == size_of(&w[0]))
            .count();
        if hits > best.0 {
            best = (hits, layout);
        }
    }
    best.1
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
        let l = ObjectLayout::COMPRESSED;
        assert_eq!(l.instance_size(&table, 0), 16);
        assert_eq!(l.instance_size(&table, 1), 24);
        assert_eq!(l.instance_size(&table, 2), 24);
        assert_eq!(l.instance_size(&table, 3), 24);
        assert_eq!(l.array_size(Int, 0), 16);
        assert_eq!(l.array_size(Int, 3), 32);
        assert_eq!(l.array_size(Object, 5), 40);
        assert_eq!(l.array_size(Byte, 9), 32);
        let u = ObjectLayout::UNCOMPRESSED;
        assert_eq!(u.instance_size(&table, 3), 32);
        assert_eq!(u.array_size(Object, 1), 32);
    }
}
