//! Cache prefetch hints for walks over arrays too big for the caches, whose next positions
//! are known some steps ahead: a breadth-first queue, a depth-first walk's pending successors,
//! the listed referrers in the semi-dominator search (read ahead across lists), the walk's
//! non-tree edges turned into preorder numbers,
//! the retained sizes added up in reverse preorder.
//! Where it was tried and did not pay (the whole semi-NCA loop, minimum retained sizes, id
//! lookups of the outgoing pass) it is not used.

/// Asks the CPU to bring `slice[i]` into cache; does nothing when `i` is out of bounds.
#[inline(always)]
pub fn prefetch<T>(slice: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = slice.get(i) {
        // SAFETY: a prefetch never faults and reads nothing back: it only warms the cache.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const T).cast::<i8>(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, i);
}
