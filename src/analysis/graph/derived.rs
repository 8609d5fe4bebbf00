//! Edges known without being listed: each object's reference to its class object, which
//! its class gives.

use super::{Outgoing, NO_OBJECT};
use crate::heap::class_of::ClassOf;
use crate::heap::ObjectId;

/// Edges of a graph that need not be listed to be known: each node's edge to the target of
/// its group, if it has one (an object's reference to its class object, known from its
/// class). The depth-first walk lists every edge it does not enter by but these; the
/// dominator search derives them from the groups.
pub trait DerivedEdges: Sync {
    /// How many groups there are.
    fn group_count(&self) -> usize;
    /// The group of `v`, when `v` has a derived edge.
    fn group_of(&self, v: u32) -> Option<u32>;
    /// The target of the edges of `group`'s nodes.
    fn group_target(&self, group: u32) -> u32;
    /// The target of `v`'s derived edge.
    #[inline]
    fn derived_successor(&self, v: u32) -> Option<u32> {
        self.group_of(v).map(|g| self.group_target(g))
    }
}

/// Each object's reference to its class object, which the outgoing lists leave out.
pub struct ClassEdges<'a> {
    class_of: &'a ClassOf,
    /// The class object of each class, [`NO_OBJECT`] when the dump has none.
    class_objects: Vec<ObjectId>,
}

impl<'a> ClassEdges<'a> {
    pub fn new(outgoing: &Outgoing, class_of: &'a ClassOf) -> ClassEdges<'a> {
        ClassEdges {
            class_of,
            class_objects: outgoing.class_objects.clone(),
        }
    }
}

impl DerivedEdges for ClassEdges<'_> {
    fn group_count(&self) -> usize {
        self.class_objects.len()
    }
    #[inline]
    fn group_of(&self, v: u32) -> Option<u32> {
        let c = self.class_of.get(v);
        (self
            .class_objects
            .get(c as usize)
            .is_some_and(|&o| o != NO_OBJECT))
        .then_some(c)
    }
    #[inline]
    fn group_target(&self, group: u32) -> u32 {
        self.class_objects[group as usize]
    }
}
