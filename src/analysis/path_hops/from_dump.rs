//! The path hops of a shortest-path tree walked without recording them, read from the dump.
//! The window's fresh analysis walks without them, so that the dump is on screen sooner
//! (3.2 s at 103 M objects), and reads them behind it, when its index file is written.

use rayon::prelude::*;

use super::{class_object_references, reference_layouts, PathHops, SharedPlaces, UNKNOWN, WIDE};
use crate::analysis::graph::AtomicBits;
use crate::analysis::paths::ShortestPathTree;
use crate::heap::{object_ranges, HeapIndex, ObjectId, ObjectView};
use crate::progress::Progress;

impl PathHops {
    /// How each object's parent on `tree` refers to it: the first place in the parent's
    /// references (counted as [`super::name_of_place`] counts them) that holds it, the one a
    /// walk that records hops takes. Each parent is read from the dump once, in object order
    /// on every core; `None` once `progress` is cancelled.
    pub fn read_from_dump(
        index: &HeapIndex,
        tree: &ShortestPathTree,
        progress: &Progress,
    ) -> Option<PathHops> {
        let n = index.object_count();
        // A GC root is its own parent and no one's child.
        let parent_of = |t: ObjectId| tree.parent(t).filter(|&p| p != t);
        let parents = AtomicBits::new(n);
        object_ranges(n).for_each(|range| {
            for p in range.filter_map(parent_of) {
                parents.insert(p);
            }
        });
        let layouts = reference_layouts(index);
        // A child listed twice is named by its first place.
        let placed = AtomicBits::new(n);
        let mut places = vec![0u16; n];
        progress.set_total(n as u64);
        let mut wide: Vec<[u32; 2]> = {
            // Each child has one parent, so the parents write disjoint places.
            let shared = SharedPlaces::new(&mut places);
            let found: Vec<Vec<[u32; 2]>> = object_ranges(n)
                .map(|range| {
                    let mut wide = Vec::new();
                    if progress.is_cancelled() {
                        return wide;
                    }
                    for v in range.clone().filter(|&v| parents.contains(v)) {
                        for_each_place(index, &layouts, v, |t, place| {
                            if parent_of(t) == Some(v) && placed.insert(t) {
                                shared.set(t, place as u16);
                                if place >= WIDE {
                                    wide.push([t, place]);
                                }
                            }
                        });
                    }
                    index.release_pages(range.clone());
                    progress.add(range.len() as u64);
                    wide
                })
                .collect();
            found.into_iter().flatten().collect()
        };
        if progress.is_cancelled() {
            return None;
        }
        // A child that its parent's references do not hold (not expected) is named `?`.
        let unknown: Vec<ObjectId> = object_ranges(n)
            .flat_map_iter(|range| range.filter(|&t| parent_of(t).is_some() && !placed.contains(t)))
            .collect();
        for t in unknown {
            places[t as usize] = UNKNOWN as u16;
            wide.push([t, UNKNOWN]);
        }
        Some(PathHops::from_places(places, wide, None))
    }
}

/// Gives each object `v` refers to, with its place: for a class object its position in
/// [`class_object_references`]; otherwise 0 for the edge to its class object (if its class
/// has one), then one place per reference field (in [`super::ref_fields`]' order) or array
/// element, null or not.
fn for_each_place(
    index: &HeapIndex,
    layouts: &[Vec<u32>],
    v: ObjectId,
    mut give: impl FnMut(ObjectId, u32),
) {
    if let Some(c) = index.class_for_object(v) {
        for (place, (t, _)) in class_object_references(index, v, c).into_iter().enumerate() {
            give(t, place as u32);
        }
        return;
    }
    let class_edge = match index.class_object(index.class_of(v)) {
        Some(class_object) => {
            give(class_object, 0);
            1
        }
        None => 0,
    };
    let mut slot = |s: usize, id: u64| {
        if let Some(t) = (id != 0).then(|| index.find(id)).flatten() {
            give(t, class_edge + s as u32);
        }
    };
    match index.view(v) {
        Some(ObjectView::Instance { class, data }) => {
            let id_size = index.header().id_size;
            let offsets = layouts.get(class as usize).map_or(&[][..], |l| &l[..]);
            for (s, &off) in offsets.iter().enumerate() {
                if let Some(b) = data.get(off as usize..off as usize + id_size) {
                    slot(s, crate::hprof::cursor::read_id(b, id_size));
                }
            }
        }
        Some(ObjectView::ObjectArray { elements, .. }) => {
            for (s, id) in elements.iter().enumerate() {
                slot(s, id);
            }
        }
        _ => {}
    }
}
