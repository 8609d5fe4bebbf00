//! Off-heap pressure visible from the heap: `Inflater`/`Deflater` not ended, direct byte
//! buffers that own native memory, pending finalizers, javacpp `Pointer`s. The heap dump
//! cannot size native memory, but it can count who holds it.

use super::{evidence, hint, strongly_reachable, Category, Certainty, Hint, Stake};
use crate::analysis::java::{self, Fields};
use crate::analysis::Analysis;
use crate::format::{bytes, thousands};
use crate::heap::{HeapIndex, ObjectId};

/// Unended inflaters/deflaters worth a hint.
pub const MIN_UNENDED: u64 = 100;
/// Native memory a zlib inflater holds once used (state ≈ 7 KB + 32 KB window), roughly.
pub const INFLATER_NATIVE_BYTES: u64 = 40 << 10;
/// ... and a deflater at the default level (windows, hash chains, pending buffer), roughly.
pub const DEFLATER_NATIVE_BYTES: u64 = 268 << 10;
/// Direct-buffer capacity worth a hint.
pub const DIRECT_MIN_BYTES: u64 = 16 << 20;
/// Pending finalizers worth a hint.
pub const MIN_PENDING_FINALIZERS: u64 = 1000;

/// Whether a zlib stream object still owns native memory (`address != 0`).
fn zstream_open(index: &HeapIndex, o: ObjectId) -> bool {
    let f = Fields::of(index, o);
    let address = match f.object(index, "zsRef") {
        Some(r) => java::field_int(index, r, "address"),
        None => f.int("address"),
    };
    address.unwrap_or(0) != 0
}

fn zstreams(a: &Analysis, class: &str, per: u64, out: &mut Vec<Hint>) {
    let index = &a.index;
    let tree = &a.dominators;
    let all = java::instances_of(index, &[class]);
    let open: Vec<ObjectId> = all
        .iter()
        .copied()
        .filter(|&o| zstream_open(index, o))
        .collect();
    let n = open.len() as u64;
    if n < MIN_UNENDED {
        return;
    }
    let reachable: Vec<ObjectId> = open
        .iter()
        .copied()
        .filter(|&o| strongly_reachable(a, o))
        .collect();
    let garbage = n - reachable.len() as u64;
    let simple = super::simple_name(class);
    let mut h = hint(
        "zstream_not_ended",
        Category::OffHeap,
        Certainty::Likely,
        Stake::EstimatedNative,
        format!(
            "{} {simple} objects not ended (native zlib memory, ~{} estimated)",
            thousands(n),
            bytes(n * per)
        ),
    );
    // Ranked by the native memory at stake; the heap bytes are in the numbers.
    h.retained_bytes = n * per;
    h.numbers.insert(
        "reachable_retained_bytes".into(),
        reachable.iter().map(|&o| tree.retained(o)).sum(),
    );
    h.numbers.insert("instances".into(), all.len() as u64);
    h.numbers.insert("not_ended".into(), n);
    h.numbers
        .insert("not_ended_reachable".into(), reachable.len() as u64);
    h.numbers.insert("not_ended_unreachable".into(), garbage);
    h.numbers.insert("estimated_native_bytes".into(), n * per);
    for &o in reachable.iter().take(3) {
        h.evidence
            .push(evidence(a, o, "not ended, reachable", None));
    }
    for &o in open.iter().filter(|o| !reachable.contains(o)).take(3) {
        h.evidence.push(evidence(a, o, "not ended, garbage", None));
    }
    h.explanation = format!(
        "{} java.util.zip.{simple} objects still own their native zlib stream (end() was never \
         called): {} reachable, {} unreachable waiting for the GC to run their \
         cleaner/finalizer. Each holds native memory outside the Java heap (about {} each once \
         used), allocated with malloc: the heap looks small while the process's RSS grows, \
         and glibc may keep freed memory in per-thread arenas. (Named from {MIN_UNENDED} \
         streams not ended, whatever else the heap holds; the estimate sets the rank.)",
        thousands(n),
        thousands(reachable.len() as u64),
        thousands(garbage),
        bytes(per)
    );
    h.fix = format!(
        "Call end() on every {simple} (or close() the stream that owns it) in a finally \
         block. Typical sources: jar/zip scanning at startup (e.g. classpath scanners such as \
         Reflections scanning every jar: narrow the packages scanned), GZIP streams never \
         closed. Confirm with -XX:NativeMemoryTracking=summary (zlib shows under 'Other' or \
         not at all) and see the MALLOC_ARENA_MAX advice."
    );
    out.push(h);
}

fn direct_buffers(a: &Analysis, out: &mut Vec<Hint>) {
    let index = &a.index;
    let tree = &a.dominators;
    let buffers = java::instances_of(index, &["java.nio.DirectByteBuffer"]);
    let mut owning = Vec::new();
    let (mut live_bytes, mut dead_bytes) = (0u64, 0u64);
    for &b in &buffers {
        let f = Fields::of(index, b);
        if f.object(index, "cleaner").is_none() {
            continue; // a view or slice: shares another buffer's memory
        }
        let cap = f.int("capacity").unwrap_or(0).max(0) as u64;
        if strongly_reachable(a, b) {
            live_bytes += cap;
        } else {
            dead_bytes += cap;
        }
        owning.push((b, cap));
    }
    let total = live_bytes + dead_bytes;
    let reserved = ["RESERVED_MEMORY", "reservedMemory"]
        .iter()
        .find_map(|f| java::static_object(index, "java.nio.Bits", f))
        .and_then(|o| java::boxed_long(index, o));
    let max = ["MAX_MEMORY", "maxMemory"]
        .iter()
        .find_map(|f| java::static_int(index, "java.nio.Bits", f));
    if total < DIRECT_MIN_BYTES {
        return;
    }
    owning.sort_by_key(|&(_, c)| std::cmp::Reverse(c));
    let mut h = hint(
        "direct_buffers",
        Category::OffHeap,
        if max.is_some_and(|m| m > 0 && total * 10 >= m as u64 * 8) {
            Certainty::Certain
        } else {
            Certainty::Likely
        },
        Stake::EstimatedNative,
        format!(
            "{} direct ByteBuffers own {} of native memory ({} of it in unreachable buffers)",
            thousands(owning.len() as u64),
            bytes(total),
            bytes(dead_bytes)
        ),
    );
    h.retained_bytes = total;
    h.numbers.insert(
        "reachable_retained_bytes".into(),
        owning
            .iter()
            .filter(|&&(b, _)| strongly_reachable(a, b))
            .map(|&(b, _)| tree.retained(b))
            .sum(),
    );
    h.numbers.insert("buffers".into(), owning.len() as u64);
    h.numbers.insert("capacity_bytes".into(), total);
    h.numbers
        .insert("reachable_capacity_bytes".into(), live_bytes);
    h.numbers
        .insert("unreachable_capacity_bytes".into(), dead_bytes);
    if let Some(r) = reserved {
        h.numbers
            .insert("bits_reserved_memory".into(), r.max(0) as u64);
    }
    if let Some(m) = max {
        h.numbers
            .insert("max_direct_memory".into(), m.max(0) as u64);
    }
    for &(b, cap) in owning.iter().take(5) {
        h.evidence.push(evidence(
            a,
            b,
            if strongly_reachable(a, b) {
                "direct buffer"
            } else {
                "garbage direct buffer"
            },
            Some(format!("{} (capacity {})", index.describe(b), bytes(cap))),
        ));
    }
    h.explanation = format!(
        "Direct ByteBuffers that own memory (cleaner != null; slices and views excluded) hold \
         {} outside the heap: {} in reachable buffers, {} in unreachable ones freed only when \
         a GC runs their cleaner. java.nio.Bits reports {} reserved{}.",
        bytes(total),
        bytes(live_bytes),
        bytes(dead_bytes),
        reserved.map_or("an unknown amount".into(), |r| bytes(r.max(0) as u64)),
        max.map_or(String::new(), |m| format!(
            " of at most {} (-XX:MaxDirectMemorySize, by default the maximum heap size)",
            bytes(m.max(0) as u64)
        ))
    );
    h.fix = "Reuse direct buffers (pool them) instead of allocating per request; release \
             pooled Netty buffers (ReferenceCountUtil.release). Set -XX:MaxDirectMemorySize \
             so a leak fails fast with 'OutOfMemoryError: Direct buffer memory' instead of \
             growing RSS."
        .to_string();
    out.push(h);
}

fn finalizers(a: &Analysis, out: &mut Vec<Hint>) {
    let index = &a.index;
    let registered = java::instances_of(index, &["java.lang.ref.Finalizer"]);
    let pending = java::static_object(index, "java.lang.ref.Finalizer", "queue")
        .and_then(|q| java::field_int(index, q, "queueLength"))
        .unwrap_or(0)
        .max(0) as u64;
    if pending < MIN_PENDING_FINALIZERS {
        return;
    }
    let mut h = hint(
        "pending_finalizers",
        Category::OffHeap,
        if pending >= 100_000 {
            Certainty::Likely
        } else {
            Certainty::Possible
        },
        Stake::Retained,
        format!(
            "{} objects wait for finalization ({} finalizable objects registered)",
            thousands(pending),
            thousands(registered.len() as u64)
        ),
    );
    h.numbers.insert("pending".into(), pending);
    h.numbers
        .insert("registered".into(), registered.len() as u64);
    if let Some(q) = java::static_object(index, "java.lang.ref.Finalizer", "queue") {
        h.evidence.push(evidence(a, q, "finalizer queue", None));
    }
    h.explanation = format!(
        "The finalizer queue holds {} objects: the single Finalizer thread is not keeping up \
         (or a finalize() method blocks). Their memory, and any native resource they guard, \
         is released only after finalize() runs.",
        thousands(pending)
    );
    h.fix = "Close resources explicitly instead of relying on finalize(); look at the Finalizer \
             thread's stack for a blocking finalize()."
        .to_string();
    out.push(h);
}

fn javacpp(a: &Analysis, out: &mut Vec<Hint>) {
    let index = &a.index;
    let pointers = java::instances_of(index, &["org.bytedeco.javacpp.Pointer"]);
    if pointers.is_empty() {
        return;
    }
    let owning: Vec<ObjectId> = pointers
        .iter()
        .copied()
        .filter(|&p| index.field_object(p, "deallocator").is_some())
        .collect();
    let live = pointers
        .iter()
        .filter(|&&p| strongly_reachable(a, p))
        .count() as u64;
    let max_bytes = java::static_int(index, "org.bytedeco.javacpp.Pointer", "maxBytes");
    let max_physical = java::static_int(index, "org.bytedeco.javacpp.Pointer", "maxPhysicalBytes");
    let mut h = hint(
        "javacpp_pointers",
        Category::OffHeap,
        if owning.len() >= 1000 {
            Certainty::Likely
        } else {
            Certainty::Possible
        },
        Stake::EstimatedNative,
        format!(
            "{} javacpp Pointers, {} of them owning native memory (the javacpp limits count \
             it against the whole process)",
            thousands(pointers.len() as u64),
            thousands(owning.len() as u64)
        ),
    );
    h.numbers.insert("pointers".into(), pointers.len() as u64);
    h.numbers.insert("owning".into(), owning.len() as u64);
    h.numbers.insert("reachable".into(), live);
    if let Some(m) = max_bytes {
        h.numbers.insert("max_bytes".into(), m.max(0) as u64);
    }
    if let Some(m) = max_physical {
        h.numbers
            .insert("max_physical_bytes".into(), m.max(0) as u64);
    }
    let native: u64 = owning
        .iter()
        .map(|&p| {
            let capacity = java::field_int(index, p, "capacity").unwrap_or(0).max(0) as u64;
            capacity.saturating_mul(pointer_element_bytes(java::class_name(index, p)))
        })
        .sum();
    h.retained_bytes = native;
    h.numbers.insert("estimated_native_bytes".into(), native);
    for &p in owning.iter().take(5) {
        h.evidence.push(evidence(a, p, "pointer", None));
    }
    h.explanation = format!(
        "org.bytedeco.javacpp Pointers allocate native memory and count it, together with the \
         process's whole RSS (physicalBytes), against limits derived from -Xmx by default \
         (maxBytes {}, maxPhysicalBytes {}). 'Cannot allocate new Pointer ... physicalBytes > \
         maxPhysicalBytes' means the process, not the heap, hit the limit. The pointers that \
         own memory here hold about {} (capacity × element size).",
        max_bytes.map_or("unknown".into(), |m| bytes(m.max(0) as u64)),
        max_physical.map_or("unknown".into(), |m| bytes(m.max(0) as u64)),
        bytes(native)
    );
    h.fix = "Deallocate pointers explicitly (close() / PointerScope) instead of waiting for \
             GC; raise -Dorg.bytedeco.javacpp.maxPhysicalBytes (or the container memory) \
             when the native working set is legitimate."
        .to_string();
    out.push(h);
}

/// Bytes per element of a javacpp pointer class (`IntPointer` → 4).
fn pointer_element_bytes(class: &str) -> u64 {
    match super::simple_name(class) {
        "BytePointer" | "BoolPointer" => 1,
        "ShortPointer" | "CharPointer" => 2,
        "IntPointer" | "FloatPointer" => 4,
        "LongPointer" | "DoublePointer" | "PointerPointer" | "SizeTPointer" | "CLongPointer" => 8,
        _ => 1,
    }
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let mut out = Vec::new();
    zstreams(a, "java.util.zip.Inflater", INFLATER_NATIVE_BYTES, &mut out);
    zstreams(a, "java.util.zip.Deflater", DEFLATER_NATIVE_BYTES, &mut out);
    direct_buffers(a, &mut out);
    finalizers(a, &mut out);
    javacpp(a, &mut out);
    out
}
