//! Top-level records: tag, time, length, body. Read in place from the mapped bytes.

use super::cursor::{Cursor, ShortRead};
use super::subrecords;

pub mod tag {
    pub const UTF8: u8 = 0x01;
    pub const LOAD_CLASS: u8 = 0x02;
    pub const UNLOAD_CLASS: u8 = 0x03;
    pub const STACK_FRAME: u8 = 0x04;
    pub const STACK_TRACE: u8 = 0x05;
    pub const ALLOC_SITES: u8 = 0x06;
    pub const HEAP_SUMMARY: u8 = 0x07;
    pub const START_THREAD: u8 = 0x0A;
    pub const END_THREAD: u8 = 0x0B;
    pub const HEAP_DUMP: u8 = 0x0C;
    pub const CPU_SAMPLES: u8 = 0x0D;
    pub const CONTROL_SETTINGS: u8 = 0x0E;
    pub const HEAP_DUMP_SEGMENT: u8 = 0x1C;
    pub const HEAP_DUMP_END: u8 = 0x2C;

    pub fn is_known(t: u8) -> bool {
        matches!(t, 0x01..=0x07 | 0x0A..=0x0E | 0x1C | 0x2C)
    }
}

/// A list of identifiers stored in the dump, decoded on access.
#[derive(Clone, Copy, Debug)]
pub struct IdList<'a> {
    bytes: &'a [u8],
    id_size: usize,
}

impl<'a> IdList<'a> {
    pub fn new(bytes: &'a [u8], id_size: usize) -> Self {
        IdList { bytes, id_size }
    }
    pub fn len(&self) -> usize {
        self.bytes.len() / self.id_size
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    pub fn get(&self, i: usize) -> Option<u64> {
        let start = i.checked_mul(self.id_size)?;
        let b = self.bytes.get(start..start + self.id_size)?;
        Some(super::cursor::read_id(b, self.id_size))
    }
    pub fn iter(&self) -> impl Iterator<Item = u64> + 'a {
        let id_size = self.id_size;
        self.bytes
            .chunks_exact(id_size)
            .map(move |b| super::cursor::read_id(b, id_size))
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Record<'a> {
    Utf8 {
        id: u64,
        text: &'a [u8],
    },
    LoadClass {
        serial: u32,
        class_id: u64,
        stack_serial: u32,
        name_id: u64,
    },
    UnloadClass {
        serial: u32,
    },
    StackFrame {
        frame_id: u64,
        method_name_id: u64,
        signature_id: u64,
        source_file_id: u64,
        class_serial: u32,
        line: i32,
    },
    StackTrace {
        serial: u32,
        thread_serial: u32,
        frame_ids: IdList<'a>,
    },
    StartThread {
        serial: u32,
        object_id: u64,
        stack_serial: u32,
        name_id: u64,
        group_name_id: u64,
        parent_group_name_id: u64,
    },
    EndThread {
        serial: u32,
    },
    HeapSummary {
        live_bytes: u32,
        live_instances: u32,
        allocated_bytes: u64,
        allocated_instances: u64,
    },
    AllocSites {
        sites: u32,
    },
    CpuSamples {
        total: u32,
        traces: u32,
    },
    ControlSettings {
        flags: u32,
        stack_depth: u16,
    },
    /// HEAP DUMP or HEAP DUMP SEGMENT: a run of sub-records. `truncated` when the file ends
    /// before the length the record declares.
    HeapDump {
        body: &'a [u8],
        body_offset: u64,
        truncated: bool,
    },
    HeapDumpEnd,
    Unknown {
        tag: u8,
        length: u32,
    },
    /// The file ends inside this record (not a heap dump: those come as truncated `HeapDump`).
    Truncated {
        tag: u8,
        needed: u64,
        available: u64,
    },
    /// The body is shorter than the record's fields need.
    Malformed {
        tag: u8,
        at: ShortRead,
    },
}

/// One record and where it starts.
#[derive(Clone, Copy, Debug)]
pub struct RecordAt<'a> {
    pub offset: u64,
    pub record: Record<'a>,
}

/// Iterates the top-level records of a dump, in file order, never assuming an order of kinds.
pub struct RecordIter<'a> {
    data: &'a [u8],
    pos: usize,
    id_size: usize,
    done: bool,
}

const RECORD_HEADER: usize = 9;

impl<'a> RecordIter<'a> {
    pub fn new(data: &'a [u8], start: usize, id_size: usize) -> Self {
        RecordIter {
            data,
            pos: start,
            id_size,
            done: false,
        }
    }

    fn plausible_header_at(&self, pos: usize) -> bool {
        let Some(h) = self.data.get(pos..pos + RECORD_HEADER) else {
            return false;
        };
        let len = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) as usize;
        tag::is_known(h[0]) && pos + RECORD_HEADER + len <= self.data.len()
    }

    /// True when `pos` is the end of the file or starts a chain of a few plausible records.
    fn plausible_boundary(&self, mut pos: usize) -> bool {
        for _ in 0..4 {
            if pos == self.data.len() {
                return true;
            }
            if !self.plausible_header_at(pos) {
                return false;
            }
            let h = &self.data[pos..pos + RECORD_HEADER];
            pos += RECORD_HEADER + u32::from_be_bytes([h[5], h[6], h[7], h[8]]) as usize;
        }
        true
    }

    /// The real end of a HEAP DUMP record whose u4 length may have overflowed or been left 0.
    fn heap_dump_end(&self, body_start: usize, declared: u32) -> usize {
        if declared != 0 {
            let first = body_start + declared as usize;
            // Sub-records that end exactly at the declared length confirm it.
            if first <= self.data.len()
                && subrecords::scan_extent(&self.data[body_start..first], self.id_size)
                    == declared as usize
            {
                return first;
            }
            let mut end = first as u64;
            while end <= self.data.len() as u64 {
                if self.plausible_boundary(end as usize) {
                    return end as usize;
                }
                end += 1u64 << 32;
            }
        }
        // Length 0 (a crash) or no plausible end: the sub-records say where they stop.
        let body = &self.data[body_start..];
        body_start + subrecords::scan_extent(body, self.id_size)
    }

    fn parse_body(&self, t: u8, mut c: Cursor<'a>, len: usize) -> Result<Record<'a>, ShortRead> {
        let id_size = self.id_size;
        Ok(match t {
            tag::UTF8 => {
                let id = c.id()?;
                let text = c.bytes(len.saturating_sub(id_size))?;
                Record::Utf8 { id, text }
            }
            tag::LOAD_CLASS => Record::LoadClass {
                serial: c.u4()?,
                class_id: c.id()?,
                stack_serial: c.u4()?,
                name_id: c.id()?,
            },
            tag::UNLOAD_CLASS => Record::UnloadClass { serial: c.u4()? },
            tag::STACK_FRAME => Record::StackFrame {
                frame_id: c.id()?,
                method_name_id: c.id()?,
                signature_id: c.id()?,
                source_file_id: c.id()?,
                class_serial: c.u4()?,
                line: c.u4()? as i32,
            },
            tag::STACK_TRACE => {
                let serial = c.u4()?;
                let thread_serial = c.u4()?;
                let count = c.u4()?;
                let bytes = c.bytes_u64(count as u64 * id_size as u64)?;
                Record::StackTrace {
                    serial,
                    thread_serial,
                    frame_ids: IdList::new(bytes, id_size),
                }
            }
            tag::START_THREAD => Record::StartThread {
                serial: c.u4()?,
                object_id: c.id()?,
                stack_serial: c.u4()?,
                name_id: c.id()?,
                group_name_id: c.id()?,
                parent_group_name_id: c.id()?,
            },
            tag::END_THREAD => Record::EndThread { serial: c.u4()? },
            tag::HEAP_SUMMARY => Record::HeapSummary {
                live_bytes: c.u4()?,
                live_instances: c.u4()?,
                allocated_bytes: c.u8()?,
                allocated_instances: c.u8()?,
            },
            tag::ALLOC_SITES => {
                c.skip(2 + 4 + 4 + 4 + 8 + 8)?;
                let sites = c.u4()?;
                c.bytes_u64(sites as u64 * 25)?;
                Record::AllocSites { sites }
            }
            tag::CPU_SAMPLES => {
                let total = c.u4()?;
                let traces = c.u4()?;
                c.bytes_u64(traces as u64 * 8)?;
                Record::CpuSamples { total, traces }
            }
            tag::CONTROL_SETTINGS => Record::ControlSettings {
                flags: c.u4()?,
                stack_depth: c.u2()?,
            },
            tag::HEAP_DUMP_END => Record::HeapDumpEnd,
            _ => Record::Unknown {
                tag: t,
                length: len as u32,
            },
        })
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = RecordAt<'a>;

    fn next(&mut self) -> Option<RecordAt<'a>> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let offset = self.pos as u64;
        let available = self.data.len() - self.pos;
        if available < RECORD_HEADER {
            self.done = true;
            let t = self.data[self.pos];
            return Some(RecordAt {
                offset,
                record: Record::Truncated {
                    tag: t,
                    needed: RECORD_HEADER as u64,
                    available: available as u64,
                },
            });
        }
        let h = &self.data[self.pos..self.pos + RECORD_HEADER];
        let t = h[0];
        let declared = u32::from_be_bytes([h[5], h[6], h[7], h[8]]);
        let body_start = self.pos + RECORD_HEADER;
        let body_available = self.data.len() - body_start;

        if t == tag::HEAP_DUMP || t == tag::HEAP_DUMP_SEGMENT {
            let (end, truncated) = if t == tag::HEAP_DUMP {
                if declared as usize > body_available {
                    // Cut short: not an overflowed length (that would be shorter than the file).
                    (self.data.len(), true)
                } else {
                    (self.heap_dump_end(body_start, declared), false)
                }
            } else if declared as usize > body_available {
                (self.data.len(), true)
            } else {
                (body_start + declared as usize, false)
            };
            self.pos = end;
            if truncated {
                self.done = true;
            }
            return Some(RecordAt {
                offset,
                record: Record::HeapDump {
                    body: &self.data[body_start..end],
                    body_offset: body_start as u64,
                    truncated,
                },
            });
        }

        let len = declared as usize;
        if len > body_available {
            self.done = true;
            return Some(RecordAt {
                offset,
                record: Record::Truncated {
                    tag: t,
                    needed: RECORD_HEADER as u64 + len as u64,
                    available: available as u64,
                },
            });
        }
        let body = &self.data[body_start..body_start + len];
        self.pos = body_start + len;
        let c = Cursor::new(body, body_start as u64, self.id_size);
        let record = match self.parse_body(t, c, len) {
            Ok(r) => r,
            Err(at) => Record::Malformed { tag: t, at },
        };
        Some(RecordAt { offset, record })
    }
}
