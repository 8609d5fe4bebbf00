//! An array that is either owned or a zero-copy slice of a mapped index file, so reopened
//! analyses run on pages the kernel can drop and re-read instead of anonymous memory.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;

/// Plain numbers that can be read straight from mapped bytes (little-endian hosts).
pub use bytemuck::Pod;

/// A `[T]` owned in a `Vec` (alone or shared by several holders) or borrowed from a mapped
/// file kept alive by an `Arc`.
pub struct Array<T: Pod> {
    repr: Repr<T>,
}

enum Repr<T> {
    Owned(Vec<T>),
    /// Built at load and held by several structures (clones share it).
    Shared(Arc<Vec<T>>),
    Mapped {
        _map: Arc<Mmap>,
        ptr: *const T,
        len: usize,
    },
}

// SAFETY: a mapped array is an immutable view of a read-only mapping that the `Arc` keeps
// alive; sharing or sending it is as safe as sharing a `&[T]` of a `Vec<T>`.
unsafe impl<T: Pod + Send> Send for Array<T> {}
unsafe impl<T: Pod + Sync> Sync for Array<T> {}

impl<T: Pod> Array<T> {
    /// A view of `bytes`, which must lie inside `map`, be aligned for `T` and a whole number
    /// of `T`s; `None` otherwise.
    pub fn mapped(map: &Arc<Mmap>, bytes: std::ops::Range<usize>) -> Option<Array<T>> {
        let slice: &[T] = bytemuck::try_cast_slice(map.get(bytes)?).ok()?;
        Some(Array {
            repr: Repr::Mapped {
                _map: map.clone(),
                ptr: slice.as_ptr(),
                len: slice.len(),
            },
        })
    }

    /// An owned array whose clones share one copy.
    pub fn shared(v: Vec<T>) -> Array<T> {
        Array {
            repr: Repr::Shared(Arc::new(v)),
        }
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped { .. })
    }

    /// Bytes of anonymous memory this array holds (0 when mapped).
    pub fn owned_bytes(&self) -> usize {
        match &self.repr {
            Repr::Owned(v) => v.capacity() * std::mem::size_of::<T>(),
            Repr::Shared(v) => v.capacity() * std::mem::size_of::<T>(),
            Repr::Mapped { .. } => 0,
        }
    }

    /// Drops the pages of a mapped array from the process (the page cache keeps them; the
    /// next read maps them again). Nothing for an owned array.
    pub fn release_pages(&self) {
        if let Repr::Mapped {
            _map: map,
            ptr,
            len,
        } = &self.repr
        {
            let page = 4096;
            let start = (*ptr as usize).saturating_sub(map.as_ptr() as usize);
            let aligned = start / page * page;
            let end = (start + len * std::mem::size_of::<T>()).min(map.len());
            if end > aligned {
                // SAFETY: a read-only file mapping; DONTNEED discards only cached pages,
                // which the kernel reloads from the file on the next access.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        aligned,
                        end - aligned,
                    )
                };
            }
        }
    }

    /// The contents as a `Vec` (a copy when mapped).
    pub fn into_vec(self) -> Vec<T> {
        match self.repr {
            Repr::Owned(v) => v,
            Repr::Shared(v) => Arc::try_unwrap(v).unwrap_or_else(|v| v.to_vec()),
            Repr::Mapped { .. } => self.deref().to_vec(),
        }
    }
}

impl<T: Pod> Deref for Array<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.repr {
            Repr::Owned(v) => v,
            Repr::Shared(v) => v,
            // SAFETY: `ptr`/`len` came from a checked cast of bytes of the mapping, which the
            // `Arc` keeps mapped for as long as `self` lives; the mapping is read-only.
            Repr::Mapped { ptr, len, .. } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
        }
    }
}

impl<T: Pod> From<Vec<T>> for Array<T> {
    fn from(v: Vec<T>) -> Self {
        Array {
            repr: Repr::Owned(v),
        }
    }
}

impl<T: Pod> Default for Array<T> {
    fn default() -> Self {
        Vec::new().into()
    }
}

impl<T: Pod> Clone for Array<T> {
    fn clone(&self) -> Self {
        match &self.repr {
            Repr::Owned(v) => v.clone().into(),
            Repr::Shared(v) => Array {
                repr: Repr::Shared(v.clone()),
            },
            Repr::Mapped { _map, ptr, len } => Array {
                repr: Repr::Mapped {
                    _map: _map.clone(),
                    ptr: *ptr,
                    len: *len,
                },
            },
        }
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Pod> FromIterator<T> for Array<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        iter.into_iter().collect::<Vec<T>>().into()
    }
}
