//! Where HotSpot puts the instance fields of a class, hence the size of its instances.
//!
//! Two algorithms, as in OpenJDK:
//! * before JDK 15 (`classFileParser.cpp`, `layout_fields`): each class's own fields form a
//!   block after its superclass's block (which ends aligned to the reference size), grouped by
//!   size (longs/doubles, ints/floats, shorts/chars, bytes/booleans, references), with only
//!   the gap before the first long filled by smaller fields;
//! * JDK 15 and later (`fieldLayoutBuilder.cpp`): fields sorted by size are put into the
//!   smallest hole that fits anywhere in the layout, the superclasses' holes included.
//!
//! Both add the fields the VM injects and the padding of `@Contended` fields (see `vm`).

use super::classes::{ClassIndex, ClassTable};
use super::vm::{self, Contended, Injected, Jdk};
use crate::hprof::BasicType;

/// Padding HotSpot puts around `@Contended` fields (`ContendedPaddingWidth`).
const CONTENDED_PADDING: u64 = 128;

/// What the field layout depends on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Params {
    pub header: u32,
    /// `heapOopSize`: 4 with compressed oops.
    pub oop: u32,
    /// Machine word: 8 on 64-bit, 4 on 32-bit VMs.
    pub word: u32,
    pub alignment: u32,
    pub jdk: Jdk,
}

/// One field to place: its size (also its alignment) and whether it is a reference.
#[derive(Debug, Clone, Copy)]
struct Slot {
    size: u64,
    oop: bool,
}

/// A class's fields as the VM sees them: the dump's plus the injected, split by contention.
struct OwnFields {
    regular: Vec<Slot>,
    /// Contended groups, each padded apart.
    groups: Vec<Vec<Slot>>,
    whole_class_contended: bool,
}

impl Params {
    fn slot(&self, ty: BasicType) -> Slot {
        match ty {
            BasicType::Object => Slot {
                size: self.oop as u64,
                oop: true,
            },
            t => Slot {
                size: t.primitive_size() as u64,
                oop: false,
            },
        }
    }

    fn own_fields(&self, classes: &ClassTable, c: ClassIndex) -> OwnFields {
        let class = classes.get(c);
        let mut regular = Vec::with_capacity(class.fields.len());
        let mut group = Vec::new();
        let contended = vm::contended(self.jdk, &class.name);
        for f in &class.fields {
            let slot = self.slot(f.ty);
            match contended {
                Contended::Group(names) if names.contains(&&*f.name) => group.push(slot),
                _ => regular.push(slot),
            }
        }
        for inj in vm::injected(self.jdk, &class.name) {
            regular.push(match inj {
                Injected::Oop => Slot {
                    size: self.oop as u64,
                    oop: true,
                },
                Injected::Pointer => Slot {
                    size: self.word as u64,
                    oop: false,
                },
                Injected::Bytes(n) => Slot {
                    size: *n as u64,
                    oop: false,
                },
            });
        }
        OwnFields {
            regular,
            groups: if group.is_empty() {
                vec![]
            } else {
                vec![group]
            },
            whole_class_contended: contended == Contended::WholeClass,
        }
    }

    fn instance_size(&self, end: u64) -> u32 {
        let word = self.word as u64;
        let a = self.alignment as u64;
        let end = end.div_ceil(word) * word;
        (end.div_ceil(a) * a).min(u32::MAX as u64) as u32
    }
}

/// Instance sizes of every class of the table (array classes get a meaningless value).
pub(super) fn instance_sizes(classes: &ClassTable, params: &Params) -> Vec<u32> {
    if params.jdk.packs_fields() {
        let mut memo: Vec<Option<Packed>> = vec![None; classes.len()];
        (0..classes.len() as ClassIndex)
            .map(|c| {
                let layout = resolve(classes, c, &mut memo, |sup, c| {
                    packed(params, classes, sup, c)
                });
                params.instance_size(layout.end)
            })
            .collect()
    } else {
        let mut memo: Vec<Option<Grouped>> = vec![None; classes.len()];
        (0..classes.len() as ClassIndex)
            .map(|c| {
                let layout = resolve(classes, c, &mut memo, |sup, c| {
                    grouped(params, classes, sup, c)
                });
                params.instance_size(layout.end)
            })
            .collect()
    }
}

/// Lays out `c` after its superclasses, reusing laid-out ancestors (no recursion).
fn resolve<'m, L: Clone>(
    classes: &ClassTable,
    c: ClassIndex,
    memo: &'m mut [Option<L>],
    mut lay_out: impl FnMut(Option<&L>, ClassIndex) -> L,
) -> &'m L {
    let mut pending = Vec::new();
    let mut known = None;
    for k in classes.chain(c) {
        if memo[k as usize].is_some() {
            known = Some(k);
            break;
        }
        // A corrupt dump's superclass cycle: lay the cycle out once, from its first class.
        if pending.contains(&k) {
            break;
        }
        pending.push(k);
    }
    let mut sup = known;
    for &k in pending.iter().rev() {
        let layout = lay_out(sup.and_then(|s| memo[s as usize].as_ref()), k);
        memo[k as usize] = Some(layout);
        sup = Some(k);
    }
    memo[c as usize].as_ref().expect("laid out above")
}

// ---------------------------------------------------------------------------------------------
// Before JDK 15
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Grouped {
    /// End of the last field or padding (not aligned).
    end: u64,
    /// Where a subclass's fields start.
    next_start: u64,
}

/// JDK classes whose field offsets were hard-coded: references first, no gap filling.
fn hard_coded_offsets(name: &str) -> bool {
    matches!(
        name,
        "java.lang.AssertionStatusDirectives"
            | "java.lang.Class"
            | "java.lang.ClassLoader"
            | "java.lang.ref.Reference"
            | "java.lang.ref.SoftReference"
            | "java.lang.StackTraceElement"
            | "java.lang.String"
            | "java.lang.Throwable"
            | "java.lang.Boolean"
            | "java.lang.Character"
            | "java.lang.Float"
            | "java.lang.Double"
            | "java.lang.Byte"
            | "java.lang.Short"
            | "java.lang.Integer"
            | "java.lang.Long"
    )
}

fn grouped(params: &Params, classes: &ClassTable, sup: Option<&Grouped>, c: ClassIndex) -> Grouped {
    let class = classes.get(c);
    let own = params.own_fields(classes, c);
    let oop = params.oop as u64;
    let mut start = sup.map_or(params.header as u64, |s| s.next_start);
    if own.whole_class_contended {
        start += CONTENDED_PADDING;
    }
    let oops_first = class.loader_id == 0 && hard_coded_offsets(&class.name);
    let compact = !oops_first;
    let count = |size: u64| {
        own.regular
            .iter()
            .filter(|s| !s.oop && s.size == size)
            .count() as u64
    };
    let (longs, mut ints, mut shorts, mut bytes) = (count(8), count(4), count(2), count(1));
    let mut oops = own.regular.iter().filter(|s| s.oop).count() as u64;

    let mut long_at = if oops_first {
        start + oops * oop
    } else {
        start
    };
    if longs > 0 {
        let unaligned = long_at;
        long_at = unaligned.next_multiple_of(8);
        let mut gap = long_at - unaligned;
        if compact && gap > 0 {
            if ints > 0 && gap >= 4 {
                ints -= 1;
                gap -= 4;
            }
            while gap >= 2 && shorts > 0 {
                shorts -= 1;
                gap -= 2;
            }
            while gap > 0 && bytes > 0 {
                bytes -= 1;
                gap -= 1;
            }
            if gap >= oop && oops > 0 && !oops_first {
                oops -= 1;
            }
        }
    }
    let mut end = long_at + 8 * longs + 4 * ints + 2 * shorts + bytes;
    if !oops_first && oops > 0 {
        end = end.next_multiple_of(oop) + oops * oop;
    }
    if !own.groups.is_empty() {
        end += CONTENDED_PADDING;
        for group in &own.groups {
            for slot in group {
                end = end.next_multiple_of(slot.size) + slot.size;
            }
            end += CONTENDED_PADDING;
        }
    }
    if own.whole_class_contended {
        end += CONTENDED_PADDING;
    }
    Grouped {
        end,
        next_start: end.next_multiple_of(oop),
    }
}

// ---------------------------------------------------------------------------------------------
// JDK 15 and later
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Packed {
    /// (offset, size) of every field of the class and its superclasses, by offset.
    fields: Vec<(u64, u64)>,
    /// End of the layout: after the last field, or after the padding that follows it.
    end: u64,
    /// The class or a superclass has `@Contended` fields (`has_contended_annotations`).
    contended: bool,
}

/// Free space while a class is laid out: holes (offset, size) and the open end.
struct Space {
    holes: Vec<(u64, u64)>,
    tail: u64,
}

impl Space {
    /// Puts a field in the smallest hole it fits (the last such one), else at the end.
    fn best_fit(&mut self, slot: Slot, align: u64) -> u64 {
        let fits =
            |&(off, size): &(u64, u64)| size >= off.next_multiple_of(align) - off + slot.size;
        let mut best: Option<usize> = None;
        for (i, h) in self.holes.iter().enumerate().rev() {
            if fits(h) && best.is_none_or(|b| h.1 < self.holes[b].1) {
                best = Some(i);
            }
        }
        match best {
            Some(i) => {
                let (off, size) = self.holes[i];
                let at = off.next_multiple_of(align);
                let mut pieces = Vec::with_capacity(2);
                if at > off {
                    pieces.push((off, at - off));
                }
                if off + size > at + slot.size {
                    pieces.push((at + slot.size, off + size - at - slot.size));
                }
                self.holes.splice(i..=i, pieces);
                at
            }
            None => self.append(slot, align),
        }
    }

    /// Puts a field at the end; the alignment gap before it becomes a hole.
    fn append(&mut self, slot: Slot, align: u64) -> u64 {
        let at = self.tail.next_multiple_of(align);
        if at > self.tail {
            self.holes.push((self.tail, at - self.tail));
        }
        self.tail = at + slot.size;
        at
    }
}

fn packed(params: &Params, classes: &ClassTable, sup: Option<&Packed>, c: ClassIndex) -> Packed {
    let own = params.own_fields(classes, c);
    let header = params.header as u64;
    let mut fields = sup.map_or_else(Vec::new, |s| s.fields.clone());
    let super_contended = sup.is_some_and(|s| s.contended);
    // The superclass's holes are usable unless it has contended fields (then they are padding).
    let mut space = match sup {
        None => Space {
            holes: vec![],
            tail: header,
        },
        Some(s) => {
            let mut holes = Vec::new();
            let mut at = header;
            for &(off, size) in &s.fields {
                if off > at && !s.contended {
                    holes.push((at, off - at));
                }
                at = at.max(off + size);
            }
            if s.contended {
                at += CONTENDED_PADDING;
            }
            Space { holes, tail: at }
        }
    };
    let append_only = (super_contended && !fields.is_empty()) || own.whole_class_contended;
    if own.whole_class_contended {
        space.tail += CONTENDED_PADDING;
    }
    let place = |space: &mut Space, slots: &[Slot], append: bool, out: &mut Vec<(u64, u64)>| {
        let mut prims: Vec<Slot> = slots.iter().copied().filter(|s| !s.oop).collect();
        prims.sort_by_key(|s| std::cmp::Reverse(s.size));
        let oops = slots.iter().copied().filter(|s| s.oop);
        for slot in prims.into_iter().chain(oops) {
            let at = if append {
                space.append(slot, slot.size)
            } else {
                space.best_fit(slot, slot.size)
            };
            out.push((at, slot.size));
        }
    };
    place(&mut space, &own.regular, append_only, &mut fields);
    for group in &own.groups {
        space.tail += CONTENDED_PADDING;
        place(&mut space, group, true, &mut fields);
    }
    if own.whole_class_contended || !own.groups.is_empty() {
        space.tail += CONTENDED_PADDING;
    }
    fields.sort_unstable();
    Packed {
        fields,
        end: space.tail,
        contended: super_contended || own.whole_class_contended || !own.groups.is_empty(),
    }
}
