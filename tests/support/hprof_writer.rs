//! A small HPROF writer for tests.
//!
//! Two levels:
//!
//! * [`HprofWriter`] and [`SubRecords`]: byte-exact records. Every top-level record and every
//!   heap-dump sub-record kind (all GC roots, HotSpot's and Android's, CLASS DUMP, INSTANCE
//!   DUMP, arrays, Android's HEAP DUMP INFO and PRIMITIVE ARRAY NODATA) can be written, with
//!   lengths computed or overridden, so tests can also write broken files.
//! * [`HeapBuilder`]: declare classes, objects, strings, threads and roots; it emits a complete,
//!   valid dump (`java.lang.Object`, `java.lang.Class`, `java.lang.String` and the array classes
//!   included, with LOAD CLASS and UTF8 names), in one HEAP DUMP or N segments, in HotSpot's
//!   record order or an unusual one, optionally gzip'ed (one member or jcmd-style chunks).
//!   [`HeapBuilder::expected_histogram`] says what a reader must count, for a given layout.
//!
//! The writer is independent of the crate under test on purpose: it knows the format from the
//! HPROF specification, not from heapsight's reader.

// Not every test crate that includes `support` uses every helper.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Basic types and values
// ---------------------------------------------------------------------------------------------

/// HPROF basic types, numbered as the format numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    Object,
    Boolean,
    Char,
    Float,
    Double,
    Byte,
    Short,
    Int,
    Long,
}

impl Ty {
    pub const ALL: [Ty; 9] = [
        Ty::Object,
        Ty::Boolean,
        Ty::Char,
        Ty::Float,
        Ty::Double,
        Ty::Byte,
        Ty::Short,
        Ty::Int,
        Ty::Long,
    ];
    pub const PRIMITIVES: [Ty; 8] = [
        Ty::Boolean,
        Ty::Char,
        Ty::Float,
        Ty::Double,
        Ty::Byte,
        Ty::Short,
        Ty::Int,
        Ty::Long,
    ];

    pub fn code(self) -> u8 {
        match self {
            Ty::Object => 2,
            Ty::Boolean => 4,
            Ty::Char => 5,
            Ty::Float => 6,
            Ty::Double => 7,
            Ty::Byte => 8,
            Ty::Short => 9,
            Ty::Int => 10,
            Ty::Long => 11,
        }
    }

    /// Size in the dump (references: the identifier size).
    pub fn dump_size(self, id_size: usize) -> usize {
        match self {
            Ty::Object => id_size,
            Ty::Boolean | Ty::Byte => 1,
            Ty::Char | Ty::Short => 2,
            Ty::Float | Ty::Int => 4,
            Ty::Double | Ty::Long => 8,
        }
    }

    /// Size in the JVM's memory under `layout`.
    pub fn heap_size(self, layout: &LayoutSpec) -> u64 {
        match self {
            Ty::Object => layout.reference,
            t => t.dump_size(8) as u64,
        }
    }

    /// JVM descriptor letter.
    pub fn descriptor(self) -> char {
        match self {
            Ty::Object => 'L',
            Ty::Boolean => 'Z',
            Ty::Char => 'C',
            Ty::Float => 'F',
            Ty::Double => 'D',
            Ty::Byte => 'B',
            Ty::Short => 'S',
            Ty::Int => 'I',
            Ty::Long => 'J',
        }
    }

    pub fn java_name(self) -> &'static str {
        match self {
            Ty::Object => "java.lang.Object",
            Ty::Boolean => "boolean",
            Ty::Char => "char",
            Ty::Float => "float",
            Ty::Double => "double",
            Ty::Byte => "byte",
            Ty::Short => "short",
            Ty::Int => "int",
            Ty::Long => "long",
        }
    }

    /// The default (zero) value of this type.
    pub fn zero(self) -> Val {
        match self {
            Ty::Object => Val::Object(0),
            Ty::Boolean => Val::Boolean(false),
            Ty::Char => Val::Char(0),
            Ty::Float => Val::Float(0.0),
            Ty::Double => Val::Double(0.0),
            Ty::Byte => Val::Byte(0),
            Ty::Short => Val::Short(0),
            Ty::Int => Val::Int(0),
            Ty::Long => Val::Long(0),
        }
    }
}

/// A field, static or array value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    Object(u64),
    Boolean(bool),
    Char(u16),
    Float(f32),
    Double(f64),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
}

impl Val {
    pub fn ty(self) -> Ty {
        match self {
            Val::Object(_) => Ty::Object,
            Val::Boolean(_) => Ty::Boolean,
            Val::Char(_) => Ty::Char,
            Val::Float(_) => Ty::Float,
            Val::Double(_) => Ty::Double,
            Val::Byte(_) => Ty::Byte,
            Val::Short(_) => Ty::Short,
            Val::Int(_) => Ty::Int,
            Val::Long(_) => Ty::Long,
        }
    }

    /// Appends the big-endian encoding (references take `id_size` bytes).
    pub fn encode(self, out: &mut Vec<u8>, id_size: usize) {
        match self {
            Val::Object(id) => put_id(out, id, id_size),
            Val::Boolean(b) => out.push(b as u8),
            Val::Char(c) => out.extend_from_slice(&c.to_be_bytes()),
            Val::Float(f) => out.extend_from_slice(&f.to_bits().to_be_bytes()),
            Val::Double(d) => out.extend_from_slice(&d.to_bits().to_be_bytes()),
            Val::Byte(b) => out.push(b as u8),
            Val::Short(s) => out.extend_from_slice(&s.to_be_bytes()),
            Val::Int(i) => out.extend_from_slice(&i.to_be_bytes()),
            Val::Long(l) => out.extend_from_slice(&l.to_be_bytes()),
        }
    }
}

/// The contents of a primitive array.
#[derive(Debug, Clone, PartialEq)]
pub enum PrimData {
    Boolean(Vec<bool>),
    Char(Vec<u16>),
    Float(Vec<f32>),
    Double(Vec<f64>),
    Byte(Vec<u8>),
    Short(Vec<i16>),
    Int(Vec<i32>),
    Long(Vec<i64>),
}

impl PrimData {
    pub fn ty(&self) -> Ty {
        match self {
            PrimData::Boolean(_) => Ty::Boolean,
            PrimData::Char(_) => Ty::Char,
            PrimData::Float(_) => Ty::Float,
            PrimData::Double(_) => Ty::Double,
            PrimData::Byte(_) => Ty::Byte,
            PrimData::Short(_) => Ty::Short,
            PrimData::Int(_) => Ty::Int,
            PrimData::Long(_) => Ty::Long,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            PrimData::Boolean(v) => v.len(),
            PrimData::Char(v) => v.len(),
            PrimData::Float(v) => v.len(),
            PrimData::Double(v) => v.len(),
            PrimData::Byte(v) => v.len(),
            PrimData::Short(v) => v.len(),
            PrimData::Int(v) => v.len(),
            PrimData::Long(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `len` zero elements of `ty` (a primitive).
    pub fn zeros(ty: Ty, len: usize) -> PrimData {
        match ty {
            Ty::Boolean => PrimData::Boolean(vec![false; len]),
            Ty::Char => PrimData::Char(vec![0; len]),
            Ty::Float => PrimData::Float(vec![0.0; len]),
            Ty::Double => PrimData::Double(vec![0.0; len]),
            Ty::Byte => PrimData::Byte(vec![0; len]),
            Ty::Short => PrimData::Short(vec![0; len]),
            Ty::Int => PrimData::Int(vec![0; len]),
            Ty::Long => PrimData::Long(vec![0; len]),
            Ty::Object => panic!("PrimData::zeros of a reference type"),
        }
    }

    /// Big-endian element bytes, as a dump stores them.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            PrimData::Boolean(v) => out.extend(v.iter().map(|&b| b as u8)),
            PrimData::Char(v) => v
                .iter()
                .for_each(|c| out.extend_from_slice(&c.to_be_bytes())),
            PrimData::Float(v) => v
                .iter()
                .for_each(|f| out.extend_from_slice(&f.to_bits().to_be_bytes())),
            PrimData::Double(v) => v
                .iter()
                .for_each(|f| out.extend_from_slice(&f.to_bits().to_be_bytes())),
            PrimData::Byte(v) => out.extend_from_slice(v),
            PrimData::Short(v) => v
                .iter()
                .for_each(|s| out.extend_from_slice(&s.to_be_bytes())),
            PrimData::Int(v) => v
                .iter()
                .for_each(|s| out.extend_from_slice(&s.to_be_bytes())),
            PrimData::Long(v) => v
                .iter()
                .for_each(|s| out.extend_from_slice(&s.to_be_bytes())),
        }
    }
}

pub fn put_id(out: &mut Vec<u8>, id: u64, id_size: usize) {
    match id_size {
        8 => out.extend_from_slice(&id.to_be_bytes()),
        4 => {
            assert!(id <= u32::MAX as u64, "id 0x{id:x} does not fit 4 bytes");
            out.extend_from_slice(&(id as u32).to_be_bytes())
        }
        n => out.extend_from_slice(&id.to_be_bytes()[8 - n.min(8)..]),
    }
}

// ---------------------------------------------------------------------------------------------
// Byte-level writer: header and top-level records
// ---------------------------------------------------------------------------------------------

/// The format name in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V101,
    V102,
    V103,
}

impl Version {
    pub const ALL: [Version; 3] = [Version::V101, Version::V102, Version::V103];

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V101 => "JAVA PROFILE 1.0.1",
            Version::V102 => "JAVA PROFILE 1.0.2",
            Version::V103 => "JAVA PROFILE 1.0.3",
        }
    }
}

pub mod tag {
    pub const UTF8: u8 = 0x01;
    pub const LOAD_CLASS: u8 = 0x02;
    pub const UNLOAD_CLASS: u8 = 0x03;
    pub const STACK_FRAME: u8 = 0x04;
    pub const STACK_TRACE: u8 = 0x05;
    pub const HEAP_SUMMARY: u8 = 0x07;
    pub const START_THREAD: u8 = 0x0A;
    pub const END_THREAD: u8 = 0x0B;
    pub const HEAP_DUMP: u8 = 0x0C;
    pub const HEAP_DUMP_SEGMENT: u8 = 0x1C;
    pub const HEAP_DUMP_END: u8 = 0x2C;
}

pub mod subtag {
    pub const ROOT_UNKNOWN: u8 = 0xFF;
    pub const ROOT_JNI_GLOBAL: u8 = 0x01;
    pub const ROOT_JNI_LOCAL: u8 = 0x02;
    pub const ROOT_JAVA_FRAME: u8 = 0x03;
    pub const ROOT_NATIVE_STACK: u8 = 0x04;
    pub const ROOT_STICKY_CLASS: u8 = 0x05;
    pub const ROOT_THREAD_BLOCK: u8 = 0x06;
    pub const ROOT_MONITOR_USED: u8 = 0x07;
    pub const ROOT_THREAD_OBJECT: u8 = 0x08;
    pub const CLASS_DUMP: u8 = 0x20;
    pub const INSTANCE_DUMP: u8 = 0x21;
    pub const OBJECT_ARRAY_DUMP: u8 = 0x22;
    pub const PRIMITIVE_ARRAY_DUMP: u8 = 0x23;
    pub const ROOT_INTERNED_STRING: u8 = 0x89;
    pub const ROOT_FINALIZING: u8 = 0x8A;
    pub const ROOT_DEBUGGER: u8 = 0x8B;
    pub const ROOT_REFERENCE_CLEANUP: u8 = 0x8C;
    pub const ROOT_VM_INTERNAL: u8 = 0x8D;
    pub const ROOT_JNI_MONITOR: u8 = 0x8E;
    pub const ROOT_UNREACHABLE: u8 = 0x90;
    pub const PRIMITIVE_ARRAY_NODATA: u8 = 0xC3;
    pub const HEAP_DUMP_INFO: u8 = 0xFE;
}

/// Writes a dump record by record. Offsets of the records it wrote are kept in
/// [`HprofWriter::record_starts`] so tests know where the record boundaries are.
pub struct HprofWriter {
    buf: Vec<u8>,
    id_size: usize,
    header_len: usize,
    record_starts: Vec<usize>,
}

impl HprofWriter {
    pub fn new(version: Version, id_size: usize, timestamp_ms: u64) -> Self {
        Self::with_header(version.as_str(), id_size as u32, timestamp_ms)
    }

    /// A header with any format name and identifier size (for broken files).
    pub fn with_header(format: &str, id_size: u32, timestamp_ms: u64) -> Self {
        let mut buf = format.as_bytes().to_vec();
        buf.push(0);
        buf.extend_from_slice(&id_size.to_be_bytes());
        // The timestamp is written as two u4 (high, low): the same bytes as a big-endian u8.
        buf.extend_from_slice(&timestamp_ms.to_be_bytes());
        let header_len = buf.len();
        HprofWriter {
            buf,
            id_size: id_size as usize,
            header_len,
            record_starts: Vec::new(),
        }
    }

    pub fn id_size(&self) -> usize {
        self.id_size
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Current length: the offset the next record starts at.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn record_starts(&self) -> &[usize] {
        &self.record_starts
    }

    /// A new, empty sub-record buffer with this writer's identifier size.
    pub fn sub_records(&self) -> SubRecords {
        SubRecords::new(self.id_size)
    }

    /// A record with the length of `body`.
    pub fn record(&mut self, tag: u8, body: &[u8]) -> &mut Self {
        self.record_with_length(tag, body.len() as u32, body)
    }

    /// A record whose length field says `length`, whatever `body` holds.
    pub fn record_with_length(&mut self, tag: u8, length: u32, body: &[u8]) -> &mut Self {
        self.record_starts.push(self.buf.len());
        self.buf.push(tag);
        self.buf.extend_from_slice(&0u32.to_be_bytes()); // microseconds since the header
        self.buf.extend_from_slice(&length.to_be_bytes());
        self.buf.extend_from_slice(body);
        self
    }

    /// Raw bytes, for broken files.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    fn body(&self) -> Vec<u8> {
        Vec::new()
    }

    fn id(&self, b: &mut Vec<u8>, id: u64) {
        put_id(b, id, self.id_size);
    }

    pub fn utf8(&mut self, id: u64, text: &str) -> &mut Self {
        self.utf8_bytes(id, text.as_bytes())
    }

    pub fn utf8_bytes(&mut self, id: u64, text: &[u8]) -> &mut Self {
        let mut b = self.body();
        self.id(&mut b, id);
        b.extend_from_slice(text);
        self.record(tag::UTF8, &b)
    }

    pub fn load_class(
        &mut self,
        serial: u32,
        class_id: u64,
        stack_serial: u32,
        name_id: u64,
    ) -> &mut Self {
        let mut b = self.body();
        b.extend_from_slice(&serial.to_be_bytes());
        self.id(&mut b, class_id);
        b.extend_from_slice(&stack_serial.to_be_bytes());
        self.id(&mut b, name_id);
        self.record(tag::LOAD_CLASS, &b)
    }

    pub fn unload_class(&mut self, serial: u32) -> &mut Self {
        self.record(tag::UNLOAD_CLASS, &serial.to_be_bytes())
    }

    pub fn stack_frame(
        &mut self,
        frame_id: u64,
        method_name_id: u64,
        signature_id: u64,
        source_file_id: u64,
        class_serial: u32,
        line: i32,
    ) -> &mut Self {
        let mut b = self.body();
        self.id(&mut b, frame_id);
        self.id(&mut b, method_name_id);
        self.id(&mut b, signature_id);
        self.id(&mut b, source_file_id);
        b.extend_from_slice(&class_serial.to_be_bytes());
        b.extend_from_slice(&line.to_be_bytes());
        self.record(tag::STACK_FRAME, &b)
    }

    pub fn stack_trace(&mut self, serial: u32, thread_serial: u32, frames: &[u64]) -> &mut Self {
        let mut b = self.body();
        b.extend_from_slice(&serial.to_be_bytes());
        b.extend_from_slice(&thread_serial.to_be_bytes());
        b.extend_from_slice(&(frames.len() as u32).to_be_bytes());
        for &f in frames {
            self.id(&mut b, f);
        }
        self.record(tag::STACK_TRACE, &b)
    }

    pub fn start_thread(
        &mut self,
        serial: u32,
        object_id: u64,
        stack_serial: u32,
        name_id: u64,
        group_name_id: u64,
        parent_group_name_id: u64,
    ) -> &mut Self {
        let mut b = self.body();
        b.extend_from_slice(&serial.to_be_bytes());
        self.id(&mut b, object_id);
        b.extend_from_slice(&stack_serial.to_be_bytes());
        self.id(&mut b, name_id);
        self.id(&mut b, group_name_id);
        self.id(&mut b, parent_group_name_id);
        self.record(tag::START_THREAD, &b)
    }

    pub fn end_thread(&mut self, serial: u32) -> &mut Self {
        self.record(tag::END_THREAD, &serial.to_be_bytes())
    }

    pub fn heap_summary(
        &mut self,
        live_bytes: u32,
        live_instances: u32,
        allocated_bytes: u64,
        allocated_instances: u64,
    ) -> &mut Self {
        let mut b = self.body();
        b.extend_from_slice(&live_bytes.to_be_bytes());
        b.extend_from_slice(&live_instances.to_be_bytes());
        b.extend_from_slice(&allocated_bytes.to_be_bytes());
        b.extend_from_slice(&allocated_instances.to_be_bytes());
        self.record(tag::HEAP_SUMMARY, &b)
    }

    /// A record of a tag the format does not define.
    pub fn unknown(&mut self, tag: u8, body: &[u8]) -> &mut Self {
        self.record(tag, body)
    }

    /// One HEAP DUMP record holding all of `subs`.
    pub fn heap_dump(&mut self, subs: &SubRecords) -> &mut Self {
        self.record(tag::HEAP_DUMP, subs.bytes())
    }

    /// A HEAP DUMP whose length field says `length` (0: what a crashed JVM leaves).
    pub fn heap_dump_with_length(&mut self, subs: &SubRecords, length: u32) -> &mut Self {
        self.record_with_length(tag::HEAP_DUMP, length, subs.bytes())
    }

    pub fn heap_dump_segment(&mut self, subs: &SubRecords) -> &mut Self {
        self.record(tag::HEAP_DUMP_SEGMENT, subs.bytes())
    }

    pub fn heap_dump_end(&mut self) -> &mut Self {
        self.record(tag::HEAP_DUMP_END, &[])
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

// ---------------------------------------------------------------------------------------------
// Byte-level writer: heap-dump sub-records
// ---------------------------------------------------------------------------------------------

/// A CLASS DUMP's contents.
#[derive(Debug, Clone, Default)]
pub struct ClassDumpSpec {
    pub class_id: u64,
    pub stack_serial: u32,
    pub super_id: u64,
    pub loader_id: u64,
    pub signers_id: u64,
    pub protection_domain_id: u64,
    /// Instance size as the writer states it (HotSpot: field bytes with ids as references).
    pub instance_size: u32,
    /// Constant-pool entries (index, value); HotSpot writes none.
    pub constant_pool: Vec<(u16, Val)>,
    /// (name id, value)
    pub statics: Vec<(u64, Val)>,
    /// (name id, type)
    pub fields: Vec<(u64, Ty)>,
}

/// The body of a HEAP DUMP or HEAP DUMP SEGMENT, sub-record by sub-record.
#[derive(Debug, Clone)]
pub struct SubRecords {
    buf: Vec<u8>,
    id_size: usize,
    starts: Vec<usize>,
}

impl SubRecords {
    pub fn new(id_size: usize) -> Self {
        SubRecords {
            buf: Vec::new(),
            id_size,
            starts: Vec::new(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Offsets (in this body) where each sub-record starts.
    pub fn starts(&self) -> &[usize] {
        &self.starts
    }

    fn begin(&mut self, t: u8) -> &mut Self {
        self.starts.push(self.buf.len());
        self.buf.push(t);
        self
    }

    fn id(&mut self, id: u64) -> &mut Self {
        put_id(&mut self.buf, id, self.id_size);
        self
    }

    fn u1(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    fn u2(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    fn u4(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Raw bytes (a sub-record of a tag that does not exist, a broken one, ...).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Appends another body.
    pub fn append(&mut self, other: &SubRecords) -> &mut Self {
        let base = self.buf.len();
        self.starts.extend(other.starts.iter().map(|s| s + base));
        self.buf.extend_from_slice(&other.buf);
        self
    }

    pub fn root(&mut self, r: &Root) -> &mut Self {
        match *r {
            Root::Unknown(o) => self.begin(subtag::ROOT_UNKNOWN).id(o),
            Root::JniGlobal { object, jni_ref } => {
                self.begin(subtag::ROOT_JNI_GLOBAL).id(object).id(jni_ref)
            }
            Root::JniLocal {
                object,
                thread,
                frame,
            } => self
                .begin(subtag::ROOT_JNI_LOCAL)
                .id(object)
                .u4(thread)
                .u4(frame),
            Root::JavaFrame {
                object,
                thread,
                frame,
            } => self
                .begin(subtag::ROOT_JAVA_FRAME)
                .id(object)
                .u4(thread)
                .u4(frame),
            Root::NativeStack { object, thread } => {
                self.begin(subtag::ROOT_NATIVE_STACK).id(object).u4(thread)
            }
            Root::StickyClass(o) => self.begin(subtag::ROOT_STICKY_CLASS).id(o),
            Root::ThreadBlock { object, thread } => {
                self.begin(subtag::ROOT_THREAD_BLOCK).id(object).u4(thread)
            }
            Root::MonitorUsed(o) => self.begin(subtag::ROOT_MONITOR_USED).id(o),
            Root::ThreadObject {
                object,
                thread,
                stack,
            } => self
                .begin(subtag::ROOT_THREAD_OBJECT)
                .id(object)
                .u4(thread)
                .u4(stack),
            Root::InternedString(o) => self.begin(subtag::ROOT_INTERNED_STRING).id(o),
            Root::Finalizing(o) => self.begin(subtag::ROOT_FINALIZING).id(o),
            Root::Debugger(o) => self.begin(subtag::ROOT_DEBUGGER).id(o),
            Root::ReferenceCleanup(o) => self.begin(subtag::ROOT_REFERENCE_CLEANUP).id(o),
            Root::VmInternal(o) => self.begin(subtag::ROOT_VM_INTERNAL).id(o),
            Root::JniMonitor {
                object,
                thread,
                frame,
            } => self
                .begin(subtag::ROOT_JNI_MONITOR)
                .id(object)
                .u4(thread)
                .u4(frame),
            Root::Unreachable(o) => self.begin(subtag::ROOT_UNREACHABLE).id(o),
        }
    }

    pub fn class_dump(&mut self, c: &ClassDumpSpec) -> &mut Self {
        let id_size = self.id_size;
        self.begin(subtag::CLASS_DUMP)
            .id(c.class_id)
            .u4(c.stack_serial)
            .id(c.super_id)
            .id(c.loader_id)
            .id(c.signers_id)
            .id(c.protection_domain_id)
            .id(0)
            .id(0)
            .u4(c.instance_size)
            .u2(c.constant_pool.len() as u16);
        for &(index, v) in &c.constant_pool {
            self.u2(index).u1(v.ty().code());
            v.encode(&mut self.buf, id_size);
        }
        self.u2(c.statics.len() as u16);
        for &(name, v) in &c.statics {
            self.id(name).u1(v.ty().code());
            v.encode(&mut self.buf, id_size);
        }
        self.u2(c.fields.len() as u16);
        for &(name, ty) in &c.fields {
            self.id(name).u1(ty.code());
        }
        self
    }

    /// An INSTANCE DUMP whose field bytes encode `values` in order (own class's fields first,
    /// then each superclass's, as the format wants).
    pub fn instance(
        &mut self,
        id: u64,
        stack_serial: u32,
        class_id: u64,
        values: &[Val],
    ) -> &mut Self {
        let mut data = Vec::new();
        for v in values {
            v.encode(&mut data, self.id_size);
        }
        self.instance_raw(id, stack_serial, class_id, &data)
    }

    pub fn instance_raw(
        &mut self,
        id: u64,
        stack_serial: u32,
        class_id: u64,
        data: &[u8],
    ) -> &mut Self {
        self.begin(subtag::INSTANCE_DUMP)
            .id(id)
            .u4(stack_serial)
            .id(class_id)
            .u4(data.len() as u32)
            .raw(data)
    }

    pub fn object_array(
        &mut self,
        id: u64,
        stack_serial: u32,
        class_id: u64,
        elements: &[u64],
    ) -> &mut Self {
        self.begin(subtag::OBJECT_ARRAY_DUMP)
            .id(id)
            .u4(stack_serial)
            .u4(elements.len() as u32)
            .id(class_id);
        for &e in elements {
            self.id(e);
        }
        self
    }

    pub fn primitive_array(&mut self, id: u64, stack_serial: u32, data: &PrimData) -> &mut Self {
        let mut bytes = Vec::new();
        data.encode(&mut bytes);
        self.primitive_array_raw(
            id,
            stack_serial,
            data.ty().code(),
            data.len() as u32,
            &bytes,
        )
    }

    /// A PRIMITIVE ARRAY DUMP with any element type byte, length and data (for broken files).
    pub fn primitive_array_raw(
        &mut self,
        id: u64,
        stack_serial: u32,
        ty: u8,
        length: u32,
        data: &[u8],
    ) -> &mut Self {
        self.begin(subtag::PRIMITIVE_ARRAY_DUMP)
            .id(id)
            .u4(stack_serial)
            .u4(length)
            .u1(ty)
            .raw(data)
    }

    /// Android's PRIMITIVE ARRAY NODATA: the header of an array without its elements.
    pub fn primitive_array_nodata(
        &mut self,
        id: u64,
        stack_serial: u32,
        ty: Ty,
        length: u32,
    ) -> &mut Self {
        self.begin(subtag::PRIMITIVE_ARRAY_NODATA)
            .id(id)
            .u4(stack_serial)
            .u4(length)
            .u1(ty.code())
    }

    /// Android's HEAP DUMP INFO: the heap (app, image, zygote) the following objects are in.
    pub fn heap_dump_info(&mut self, heap_type: u32, name_id: u64) -> &mut Self {
        self.begin(subtag::HEAP_DUMP_INFO).u4(heap_type).id(name_id)
    }
}

/// A GC root sub-record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Unknown(u64),
    JniGlobal {
        object: u64,
        jni_ref: u64,
    },
    JniLocal {
        object: u64,
        thread: u32,
        frame: u32,
    },
    JavaFrame {
        object: u64,
        thread: u32,
        frame: u32,
    },
    NativeStack {
        object: u64,
        thread: u32,
    },
    StickyClass(u64),
    ThreadBlock {
        object: u64,
        thread: u32,
    },
    MonitorUsed(u64),
    ThreadObject {
        object: u64,
        thread: u32,
        stack: u32,
    },
    InternedString(u64),
    Finalizing(u64),
    Debugger(u64),
    ReferenceCleanup(u64),
    VmInternal(u64),
    JniMonitor {
        object: u64,
        thread: u32,
        frame: u32,
    },
    Unreachable(u64),
}

impl Root {
    /// One root of every kind, all holding `object` (thread-bound ones on `thread`).
    pub fn every_kind(object: u64, thread: u32) -> Vec<Root> {
        vec![
            Root::Unknown(object),
            Root::JniGlobal {
                object,
                jni_ref: 0x5000_0000,
            },
            Root::JniLocal {
                object,
                thread,
                frame: 0,
            },
            Root::JavaFrame {
                object,
                thread,
                frame: 0,
            },
            Root::NativeStack { object, thread },
            Root::StickyClass(object),
            Root::ThreadBlock { object, thread },
            Root::MonitorUsed(object),
            Root::ThreadObject {
                object,
                thread,
                stack: 0,
            },
            Root::InternedString(object),
            Root::Finalizing(object),
            Root::Debugger(object),
            Root::ReferenceCleanup(object),
            Root::VmInternal(object),
            Root::JniMonitor {
                object,
                thread,
                frame: 0,
            },
            Root::Unreachable(object),
        ]
    }

    pub fn object(&self) -> u64 {
        match *self {
            Root::Unknown(o)
            | Root::StickyClass(o)
            | Root::MonitorUsed(o)
            | Root::InternedString(o)
            | Root::Finalizing(o)
            | Root::Debugger(o)
            | Root::ReferenceCleanup(o)
            | Root::VmInternal(o)
            | Root::Unreachable(o) => o,
            Root::JniGlobal { object, .. }
            | Root::JniLocal { object, .. }
            | Root::JavaFrame { object, .. }
            | Root::NativeStack { object, .. }
            | Root::ThreadBlock { object, .. }
            | Root::ThreadObject { object, .. }
            | Root::JniMonitor { object, .. } => object,
        }
    }

    pub fn tag(&self) -> u8 {
        use subtag::*;
        match self {
            Root::Unknown(_) => ROOT_UNKNOWN,
            Root::JniGlobal { .. } => ROOT_JNI_GLOBAL,
            Root::JniLocal { .. } => ROOT_JNI_LOCAL,
            Root::JavaFrame { .. } => ROOT_JAVA_FRAME,
            Root::NativeStack { .. } => ROOT_NATIVE_STACK,
            Root::StickyClass(_) => ROOT_STICKY_CLASS,
            Root::ThreadBlock { .. } => ROOT_THREAD_BLOCK,
            Root::MonitorUsed(_) => ROOT_MONITOR_USED,
            Root::ThreadObject { .. } => ROOT_THREAD_OBJECT,
            Root::InternedString(_) => ROOT_INTERNED_STRING,
            Root::Finalizing(_) => ROOT_FINALIZING,
            Root::Debugger(_) => ROOT_DEBUGGER,
            Root::ReferenceCleanup(_) => ROOT_REFERENCE_CLEANUP,
            Root::VmInternal(_) => ROOT_VM_INTERNAL,
            Root::JniMonitor { .. } => ROOT_JNI_MONITOR,
            Root::Unreachable(_) => ROOT_UNREACHABLE,
        }
    }

    /// The name a report gives this kind (`"gc_roots"` keys).
    pub fn report_name(&self) -> &'static str {
        match self {
            Root::Unknown(_) => "unknown",
            Root::JniGlobal { .. } => "jni_global",
            Root::JniLocal { .. } => "jni_local",
            Root::JavaFrame { .. } => "java_frame",
            Root::NativeStack { .. } => "native_stack",
            Root::StickyClass(_) => "sticky_class",
            Root::ThreadBlock { .. } => "thread_block",
            Root::MonitorUsed(_) => "monitor_used",
            Root::ThreadObject { .. } => "thread_object",
            Root::InternedString(_) => "interned_string",
            Root::Finalizing(_) => "finalizing",
            Root::Debugger(_) => "debugger",
            Root::ReferenceCleanup(_) => "reference_cleanup",
            Root::VmInternal(_) => "vm_internal",
            Root::JniMonitor { .. } => "jni_monitor",
            Root::Unreachable(_) => "unreachable",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// `java.lang.String` → `java/lang/String`, `int[]` → `[I`, `java.lang.Object[][]` →
/// `[[Ljava/lang/Object;` (the form LOAD CLASS names use).
pub fn jvm_class_name(java: &str) -> String {
    let mut base = java;
    let mut dims = 0;
    while let Some(b) = base.strip_suffix("[]") {
        base = b;
        dims += 1;
    }
    if dims == 0 {
        return java.replace('.', "/");
    }
    let elem = match Ty::PRIMITIVES.iter().find(|t| t.java_name() == base) {
        Some(t) => t.descriptor().to_string(),
        None => format!("L{};", base.replace('.', "/")),
    };
    format!("{}{elem}", "[".repeat(dims))
}

/// The element type of a one-dimensional primitive array class (`int[]`).
pub fn primitive_array_elem(java: &str) -> Option<Ty> {
    let base = java.strip_suffix("[]")?;
    Ty::PRIMITIVES.into_iter().find(|t| t.java_name() == base)
}

// ---------------------------------------------------------------------------------------------
// Layout (for expected sizes and packed addresses)
// ---------------------------------------------------------------------------------------------

/// How the dumped JVM lays objects out (what heapsight's `ObjectLayout` infers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutSpec {
    pub header: u64,
    pub reference: u64,
    pub array_base: u64,
    pub array_base_wide: u64,
    pub alignment: u64,
}

impl LayoutSpec {
    pub const COMPRESSED: LayoutSpec = LayoutSpec {
        header: 12,
        reference: 4,
        array_base: 16,
        array_base_wide: 16,
        alignment: 8,
    };
    pub const UNCOMPRESSED: LayoutSpec = LayoutSpec {
        header: 16,
        reference: 8,
        array_base: 24,
        array_base_wide: 24,
        alignment: 8,
    };
    pub const BITS32: LayoutSpec = LayoutSpec {
        header: 8,
        reference: 4,
        array_base: 12,
        array_base_wide: 16,
        alignment: 8,
    };

    pub fn align(&self, n: u64) -> u64 {
        n.div_ceil(self.alignment) * self.alignment
    }

    pub fn array_size(&self, elem: Ty, len: u64) -> u64 {
        let e = elem.heap_size(self);
        let base = if e == 8 {
            self.array_base_wide
        } else {
            self.array_base
        };
        self.align(base + e * len)
    }
}

/// Bytes HotSpot injects into JDK classes that the builder may declare (the dump does not show
/// them; a reader must add them): JDK 17+ `String.flags`, so with compact strings only.
fn injected_bytes(class: &str, style: StringStyle) -> u64 {
    match (class, style) {
        ("java.lang.String", StringStyle::Compact) => 1,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// HeapBuilder
// ---------------------------------------------------------------------------------------------

/// How `java.lang.String` (and `Thread.name`) are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringStyle {
    /// JDK 9+: `byte[] value`, `byte coder` (0 Latin-1, 1 UTF-16 little-endian), `int hash`,
    /// `boolean hashIsZero`; `Thread.name` is a `String`.
    Compact,
    /// JDK 8: `char[] value`, `int hash`; `Thread.name` is a `char[]`.
    Jdk8,
}

/// How the records are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// HotSpot's: names, classes, frames and traces, then the heap dump.
    HotSpot,
    /// Heap dump first, names, LOAD CLASS, frames and traces after it.
    MetadataLast,
}

/// How the output is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gzip {
    None,
    /// One gzip member.
    Single,
    /// `jcmd GC.heap_dump -gz` style: independent members of `block_size` uncompressed bytes
    /// each, the first with the comment `HPROF BLOCKSIZE=<block_size>`.
    Chunked {
        block_size: usize,
    },
}

/// Object addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `base + step * i`.
    Spaced { base: u64, step: u64 },
    /// Consecutive objects touch, as in a TLAB, under this layout, from `base`.
    Packed { base: u64, layout: LayoutSpec },
}

/// Where an extra raw record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Right after the header.
    Start,
    /// Just before the first heap-dump record.
    BeforeHeap,
    /// Right after the last heap-dump record (before HEAP DUMP END).
    AfterHeap,
    /// At the very end.
    End,
}

#[derive(Debug, Clone)]
pub struct ClassDef {
    pub id: u64,
    /// Java form: `java.lang.String`, `int[]`, `Outer$Inner`.
    pub name: String,
    pub super_id: u64,
    pub loader_id: u64,
    pub serial: u32,
    pub fields: Vec<(String, Ty)>,
    pub statics: Vec<(String, Val)>,
}

#[derive(Debug, Clone)]
pub enum ObjKind {
    /// `values` in dump order: own class's fields first, then each superclass's.
    Instance {
        class: u64,
        values: Vec<Val>,
    },
    ObjectArray {
        class: u64,
        elements: Vec<u64>,
    },
    PrimitiveArray(PrimData),
    /// Android's PRIMITIVE ARRAY NODATA.
    PrimitiveArrayNoData {
        ty: Ty,
        length: u32,
    },
}

#[derive(Debug, Clone)]
pub struct ObjDef {
    pub id: u64,
    pub kind: ObjKind,
}

#[derive(Debug, Clone)]
pub struct FrameDef {
    /// Java name of the declaring class; declared (extending `java.lang.Object`) if new.
    pub class: String,
    pub method: String,
    pub signature: String,
    pub source: String,
    pub line: i32,
}

impl FrameDef {
    pub fn new(class: &str, method: &str, source: &str, line: i32) -> Self {
        FrameDef {
            class: class.into(),
            method: method.into(),
            signature: "()V".into(),
            source: source.into(),
            line,
        }
    }
}

/// How a thread is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadStyle {
    /// HotSpot: ROOT THREAD OBJECT sub-record + STACK TRACE naming the thread serial.
    RootThreadObject,
    /// START THREAD record (with a UTF8 name) + STACK TRACE; no thread-object root.
    StartThread,
}

#[derive(Debug, Clone)]
pub struct ThreadDef {
    pub serial: u32,
    pub object: u64,
    pub name: String,
    pub stack_serial: u32,
    pub frames: Vec<(u64, FrameDef)>,
    pub style: ThreadStyle,
}

/// A thread the builder made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadRef {
    pub serial: u32,
    pub object: u64,
    pub stack_serial: u32,
}

/// A finished dump.
#[derive(Debug, Clone)]
pub struct Dump {
    /// What goes into the file (gzip'ed if asked).
    pub bytes: Vec<u8>,
    /// The uncompressed HPROF stream.
    pub raw: Vec<u8>,
    /// Offsets in `raw` where a top-level record starts (the header's end is the first).
    pub record_starts: Vec<usize>,
    pub header_len: usize,
}

impl Dump {
    /// Writes `bytes` to `dir/name` and returns the path.
    pub fn write_to(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.bytes).expect("write dump");
        path
    }

    /// Offsets at which cutting `raw` leaves a complete file: the header's end, every record
    /// start, and the end.
    pub fn clean_cuts(&self) -> Vec<usize> {
        let mut v = vec![self.header_len];
        v.extend(&self.record_starts);
        v.push(self.raw.len());
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// What a reader must count: per class (Java name), instances and shallow bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub per_class: BTreeMap<String, (u64, u64)>,
    pub objects: u64,
    pub shallow_bytes: u64,
}

/// Declares a heap and writes it as a valid dump.
pub struct HeapBuilder {
    pub version: Version,
    pub id_size: usize,
    pub timestamp_ms: u64,
    pub string_style: StringStyle,
    pub segments: usize,
    pub heap_dump_length: Option<u32>,
    pub heap_dump_end: Option<bool>,
    pub order: Order,
    pub instances_before_classes: bool,
    pub gzip: Gzip,
    pub heap_summary: bool,
    pub android_heap_info: bool,
    pub shuffle_seed: Option<u64>,
    pub addressing: Addressing,
    pub classes: Vec<ClassDef>,
    pub objects: Vec<ObjDef>,
    pub roots: Vec<Root>,
    pub threads: Vec<ThreadDef>,
    pub extra_records: Vec<(Placement, u8, Vec<u8>)>,
    pub extra_sub_records: Vec<Vec<u8>>,
    class_by_name: HashMap<String, u64>,
    utf8: Vec<(u64, String)>,
    utf8_ids: HashMap<String, u64>,
    next_addr: u64,
    next_class_addr: u64,
    next_utf8: u64,
    next_frame: u64,
    next_thread_serial: u32,
    next_trace_serial: u32,
    object_index: HashMap<u64, usize>,
    pub object_class: u64,
    pub class_class: u64,
    pub string_class: u64,
}

/// Dummy stack trace serial for class loads, as HotSpot writes.
const CLASS_TRACE_SERIAL: u32 = 1;

impl HeapBuilder {
    /// A heap with `java.lang.Object`, `java.lang.Class` and `java.lang.String` declared.
    pub fn new(id_size: usize) -> Self {
        Self::with(Version::V102, id_size, StringStyle::Compact)
    }

    pub fn with(version: Version, id_size: usize, string_style: StringStyle) -> Self {
        let base = if id_size == 4 {
            0x7000_0000
        } else {
            0x0000_0007_1000_0000
        };
        Self::with_addresses(version, id_size, string_style, base, base - 0x0100_0000)
    }

    /// Objects from `object_base` (16 bytes apart), class objects from `class_base` (0x200
    /// apart).
    pub fn with_addresses(
        version: Version,
        id_size: usize,
        string_style: StringStyle,
        object_base: u64,
        class_base: u64,
    ) -> Self {
        assert!(id_size == 4 || id_size == 8);
        let base = object_base;
        let mut b = HeapBuilder {
            version,
            id_size,
            timestamp_ms: 1_700_000_000_000,
            string_style,
            segments: 0,
            heap_dump_length: None,
            heap_dump_end: None,
            order: Order::HotSpot,
            instances_before_classes: false,
            gzip: Gzip::None,
            heap_summary: false,
            android_heap_info: false,
            shuffle_seed: None,
            addressing: Addressing::Spaced { base, step: 16 },
            classes: Vec::new(),
            objects: Vec::new(),
            roots: Vec::new(),
            threads: Vec::new(),
            extra_records: Vec::new(),
            extra_sub_records: Vec::new(),
            class_by_name: HashMap::new(),
            utf8: Vec::new(),
            utf8_ids: HashMap::new(),
            next_addr: base,
            next_class_addr: class_base,
            next_utf8: 0x0010_0000,
            next_frame: 0x0020_0000,
            next_thread_serial: 1,
            next_trace_serial: CLASS_TRACE_SERIAL + 1,
            object_index: HashMap::new(),
            object_class: 0,
            class_class: 0,
            string_class: 0,
        };
        b.object_class = b.class("java.lang.Object", None, &[]);
        b.class_class = b.class("java.lang.Class", Some(b.object_class), &[]);
        let string_fields: &[(&str, Ty)] = match string_style {
            StringStyle::Compact => &[
                ("value", Ty::Object),
                ("hash", Ty::Int),
                ("coder", Ty::Byte),
                ("hashIsZero", Ty::Boolean),
            ],
            StringStyle::Jdk8 => &[("value", Ty::Object), ("hash", Ty::Int)],
        };
        b.string_class = b.class("java.lang.String", Some(b.object_class), string_fields);
        b
    }

    // --- options -------------------------------------------------------------------------

    pub fn version(mut self, v: Version) -> Self {
        self.version = v;
        self
    }

    /// Split the heap into `n` HEAP DUMP SEGMENTs (0: one HEAP DUMP record).
    pub fn segments(mut self, n: usize) -> Self {
        self.segments = n;
        self
    }

    /// Write the single HEAP DUMP record's length field as `len` (0: a crashed JVM's dump).
    pub fn heap_dump_length(mut self, len: u32) -> Self {
        self.heap_dump_length = Some(len);
        self
    }

    /// Write (or not) a HEAP DUMP END after the heap (default: only after segments).
    pub fn heap_dump_end(mut self, yes: bool) -> Self {
        self.heap_dump_end = Some(yes);
        self
    }

    pub fn order(mut self, o: Order) -> Self {
        self.order = o;
        self
    }

    pub fn instances_before_classes(mut self, yes: bool) -> Self {
        self.instances_before_classes = yes;
        self
    }

    pub fn gzip(mut self, g: Gzip) -> Self {
        self.gzip = g;
        self
    }

    pub fn with_heap_summary(mut self) -> Self {
        self.heap_summary = true;
        self
    }

    /// Start the heap with Android's HEAP DUMP INFO (heap "app").
    pub fn android_heap_info(mut self) -> Self {
        self.android_heap_info = true;
        self
    }

    /// Write the object sub-records in a pseudo-random order.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle_seed = Some(seed);
        self
    }

    /// Set how objects created from now on get their addresses.
    pub fn addressing(mut self, a: Addressing) -> Self {
        self.set_addressing(a);
        self
    }

    /// The next object gets this address; later ones follow as the addressing says.
    pub fn place_next_at(&mut self, address: u64) {
        self.next_addr = address;
    }

    pub fn set_addressing(&mut self, a: Addressing) {
        self.addressing = a;
        self.next_addr = match a {
            Addressing::Spaced { base, .. } | Addressing::Packed { base, .. } => base,
        };
    }

    /// A raw record of any tag, placed at `at`.
    pub fn extra_record(mut self, at: Placement, tag: u8, body: &[u8]) -> Self {
        self.extra_records.push((at, tag, body.to_vec()));
        self
    }

    // --- names ---------------------------------------------------------------------------

    /// The UTF8 id of `text` (one record per distinct text).
    pub fn name_id(&mut self, text: &str) -> u64 {
        if let Some(&id) = self.utf8_ids.get(text) {
            return id;
        }
        let id = self.next_utf8;
        self.next_utf8 += 8;
        self.utf8_ids.insert(text.to_string(), id);
        self.utf8.push((id, text.to_string()));
        id
    }

    // --- classes -------------------------------------------------------------------------

    /// Declares a class (Java name) with its own instance fields; returns its class id.
    pub fn class(&mut self, name: &str, super_id: Option<u64>, fields: &[(&str, Ty)]) -> u64 {
        self.class_with_loader(name, super_id, 0, fields)
    }

    pub fn class_with_loader(
        &mut self,
        name: &str,
        super_id: Option<u64>,
        loader_id: u64,
        fields: &[(&str, Ty)],
    ) -> u64 {
        let id = self.next_class_addr;
        self.next_class_addr += 0x200;
        self.add_class_with_id(id, name, super_id, loader_id, fields);
        id
    }

    /// Declares a class whose class object has identifier `id`.
    pub fn add_class_with_id(
        &mut self,
        id: u64,
        name: &str,
        super_id: Option<u64>,
        loader_id: u64,
        fields: &[(&str, Ty)],
    ) {
        let serial = self.classes.len() as u32 + 1;
        self.name_id(&jvm_class_name(name));
        for (f, _) in fields {
            self.name_id(f);
        }
        self.classes.push(ClassDef {
            id,
            name: name.to_string(),
            super_id: super_id.unwrap_or(0),
            loader_id,
            serial,
            fields: fields.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            statics: Vec::new(),
        });
        self.class_by_name.entry(name.to_string()).or_insert(id);
    }

    /// The class id of a class declared by name; array classes (`int[]`, `Foo[]`) are
    /// declared (extending `java.lang.Object`) when first asked for.
    pub fn class_id(&mut self, name: &str) -> u64 {
        if let Some(&id) = self.class_by_name.get(name) {
            return id;
        }
        assert!(name.ends_with("[]"), "class {name} was not declared");
        let obj = self.object_class;
        self.class(name, Some(obj), &[])
    }

    pub fn class_def(&self, id: u64) -> &ClassDef {
        self.classes
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no class 0x{id:x}"))
    }

    pub fn add_static(&mut self, class: u64, name: &str, value: Val) {
        self.name_id(name);
        let c = self
            .classes
            .iter_mut()
            .find(|c| c.id == class)
            .expect("class");
        c.statics.push((name.to_string(), value));
    }

    /// Fields of a class in dump order: own first, then each superclass's.
    pub fn all_fields(&self, class: u64) -> Vec<(String, Ty)> {
        let mut out = Vec::new();
        let mut c = class;
        let mut steps = 0;
        while c != 0 && steps < 1000 {
            let def = self.class_def(c);
            out.extend(def.fields.iter().cloned());
            c = def.super_id;
            steps += 1;
        }
        out
    }

    // --- objects -------------------------------------------------------------------------

    fn alloc(&mut self, size: impl Fn(&LayoutSpec) -> u64) -> u64 {
        let id = self.next_addr;
        self.next_addr += match self.addressing {
            Addressing::Spaced { step, .. } => step,
            Addressing::Packed { layout, .. } => size(&layout),
        };
        id
    }

    fn push(&mut self, id: u64, kind: ObjKind) -> u64 {
        self.object_index.insert(id, self.objects.len());
        self.objects.push(ObjDef { id, kind });
        id
    }

    /// An instance with every field zero / null.
    pub fn instance(&mut self, class: u64) -> u64 {
        let fields = self.all_fields(class);
        let packed = match self.addressing {
            Addressing::Packed { layout, .. } => self.instance_size(class, &layout),
            Addressing::Spaced { .. } => 0,
        };
        let id = self.alloc(|_| packed);
        let values = fields.iter().map(|(_, t)| t.zero()).collect();
        self.push(id, ObjKind::Instance { class, values })
    }

    /// An instance with some fields set by name (the most derived field of that name).
    pub fn instance_with(&mut self, class: u64, values: &[(&str, Val)]) -> u64 {
        let o = self.instance(class);
        for (name, v) in values {
            self.set(o, name, *v);
        }
        o
    }

    /// Sets a field of an instance (the most derived field called `name`).
    pub fn set(&mut self, object: u64, name: &str, value: Val) {
        let i = self.object_index[&object];
        let class = match &self.objects[i].kind {
            ObjKind::Instance { class, .. } => *class,
            _ => panic!("set on an array"),
        };
        let fields = self.all_fields(class);
        let pos = fields
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no field {name}"));
        assert_eq!(fields[pos].1, value.ty(), "type of field {name}");
        if let ObjKind::Instance { values, .. } = &mut self.objects[i].kind {
            values[pos] = value;
        }
    }

    /// An object array of class `class_name` (e.g. `java.lang.Object[]`).
    pub fn object_array(&mut self, class_name: &str, elements: &[u64]) -> u64 {
        let class = self.class_id(class_name);
        let n = elements.len() as u64;
        let id = self.alloc(|l| l.array_size(Ty::Object, n));
        self.push(
            id,
            ObjKind::ObjectArray {
                class,
                elements: elements.to_vec(),
            },
        )
    }

    /// A primitive array; its class (`int[]`, ...) gets a CLASS DUMP, as HotSpot writes.
    pub fn primitive_array(&mut self, data: PrimData) -> u64 {
        let ty = data.ty();
        self.class_id(&format!("{}[]", ty.java_name()));
        let n = data.len() as u64;
        let id = self.alloc(|l| l.array_size(ty, n));
        self.push(id, ObjKind::PrimitiveArray(data))
    }

    /// Android's PRIMITIVE ARRAY NODATA.
    pub fn primitive_array_nodata(&mut self, ty: Ty, length: u32) -> u64 {
        self.class_id(&format!("{}[]", ty.java_name()));
        let id = self.alloc(|l| l.array_size(ty, length as u64));
        self.push(id, ObjKind::PrimitiveArrayNoData { ty, length })
    }

    /// A `java.lang.String` and its value array, stored as the string style says (compact
    /// strings: Latin-1 when every char fits, else UTF-16 little-endian with coder 1).
    pub fn string(&mut self, text: &str) -> u64 {
        match self.string_style {
            StringStyle::Compact => {
                let units: Vec<u16> = text.encode_utf16().collect();
                let (bytes, coder) = if units.iter().all(|&u| u <= 0xFF) {
                    (units.iter().map(|&u| u as u8).collect(), 0i8)
                } else {
                    let mut b = Vec::new();
                    units
                        .iter()
                        .for_each(|u| b.extend_from_slice(&u.to_le_bytes()));
                    (b, 1i8)
                };
                let value = self.primitive_array(PrimData::Byte(bytes));
                let s = self.instance(self.string_class);
                self.set(s, "value", Val::Object(value));
                self.set(s, "coder", Val::Byte(coder));
                s
            }
            StringStyle::Jdk8 => {
                let value = self.primitive_array(PrimData::Char(text.encode_utf16().collect()));
                let s = self.instance(self.string_class);
                self.set(s, "value", Val::Object(value));
                s
            }
        }
    }

    pub fn root(&mut self, r: Root) {
        self.roots.push(r);
    }

    /// A raw sub-record appended at the end of the heap (after the objects).
    pub fn extra_sub_record(&mut self, bytes: &[u8]) {
        self.extra_sub_records.push(bytes.to_vec());
    }

    // --- threads -------------------------------------------------------------------------

    /// A `java.lang.Thread` with a name and a stack, announced HotSpot's way.
    pub fn thread(&mut self, name: &str, frames: &[FrameDef]) -> ThreadRef {
        self.thread_with(name, frames, ThreadStyle::RootThreadObject)
    }

    pub fn thread_with(
        &mut self,
        name: &str,
        frames: &[FrameDef],
        style: ThreadStyle,
    ) -> ThreadRef {
        let thread_class = match self.class_by_name.get("java.lang.Thread") {
            Some(&c) => c,
            None => {
                let obj = self.object_class;
                self.class(
                    "java.lang.Thread",
                    Some(obj),
                    &[("name", Ty::Object), ("tid", Ty::Long)],
                )
            }
        };
        let name_obj = match self.string_style {
            StringStyle::Compact => self.string(name),
            StringStyle::Jdk8 => {
                self.primitive_array(PrimData::Char(name.encode_utf16().collect()))
            }
        };
        let serial = self.next_thread_serial;
        self.next_thread_serial += 1;
        let object = self.instance(thread_class);
        self.set(object, "name", Val::Object(name_obj));
        self.set(object, "tid", Val::Long(serial as i64));
        let stack_serial = self.next_trace_serial;
        self.next_trace_serial += 1;
        let mut fs = Vec::new();
        for f in frames {
            if !self.class_by_name.contains_key(&f.class) {
                let obj = self.object_class;
                self.class(&f.class, Some(obj), &[]);
            }
            self.name_id(&f.method);
            self.name_id(&f.signature);
            self.name_id(&f.source);
            let fid = self.next_frame;
            self.next_frame += 16;
            fs.push((fid, f.clone()));
        }
        if style == ThreadStyle::StartThread {
            self.name_id(name);
            self.name_id("main");
        }
        self.threads.push(ThreadDef {
            serial,
            object,
            name: name.to_string(),
            stack_serial,
            frames: fs,
            style,
        });
        ThreadRef {
            serial,
            object,
            stack_serial,
        }
    }

    // --- expectations --------------------------------------------------------------------

    /// Shallow size of an instance of `class` under `layout`, fields packed without gaps
    /// (what HotSpot's field layout gives for these totals), aligned.
    pub fn instance_size(&self, class: u64, layout: &LayoutSpec) -> u64 {
        let mut size = layout.header;
        let mut c = class;
        let mut steps = 0;
        while c != 0 && steps < 1000 {
            let def = self.class_def(c);
            size += def
                .fields
                .iter()
                .map(|(_, t)| t.heap_size(layout))
                .sum::<u64>();
            size += injected_bytes(&def.name, self.string_style);
            c = def.super_id;
            steps += 1;
        }
        layout.align(size)
    }

    /// Shallow size of a class object: a `java.lang.Class` instance plus its statics.
    pub fn class_object_size(&self, class: u64, layout: &LayoutSpec) -> u64 {
        let base = self.instance_size(self.class_class, layout);
        let statics: u64 = self
            .class_def(class)
            .statics
            .iter()
            .map(|(_, v)| v.ty().heap_size(layout))
            .sum();
        layout.align(base + statics)
    }

    pub fn object_size(&self, o: &ObjDef, layout: &LayoutSpec) -> u64 {
        match &o.kind {
            ObjKind::Instance { class, .. } => self.instance_size(*class, layout),
            ObjKind::ObjectArray { elements, .. } => {
                layout.array_size(Ty::Object, elements.len() as u64)
            }
            ObjKind::PrimitiveArray(d) => layout.array_size(d.ty(), d.len() as u64),
            ObjKind::PrimitiveArrayNoData { ty, length } => layout.array_size(*ty, *length as u64),
        }
    }

    /// Java name of the class an object is counted under.
    pub fn object_class_name(&self, o: &ObjDef) -> String {
        match &o.kind {
            ObjKind::Instance { class, .. } | ObjKind::ObjectArray { class, .. } => {
                self.class_def(*class).name.clone()
            }
            ObjKind::PrimitiveArray(d) => format!("{}[]", d.ty().java_name()),
            ObjKind::PrimitiveArrayNoData { ty, .. } => format!("{}[]", ty.java_name()),
        }
    }

    /// Instances and shallow bytes per class, class objects counted as `java.lang.Class`.
    pub fn expected_histogram(&self, layout: &LayoutSpec) -> Expected {
        let mut e = Expected::default();
        let mut add = |name: String, size: u64| {
            let row = e.per_class.entry(name).or_default();
            row.0 += 1;
            row.1 += size;
            e.objects += 1;
            e.shallow_bytes += size;
        };
        for c in &self.classes {
            add(
                "java.lang.Class".to_string(),
                self.class_object_size(c.id, layout),
            );
        }
        for o in &self.objects {
            add(self.object_class_name(o), self.object_size(o, layout));
        }
        e
    }

    // --- output --------------------------------------------------------------------------

    fn heap_sub_records(&self) -> Vec<Vec<u8>> {
        let id_size = self.id_size;
        let one = |f: &dyn Fn(&mut SubRecords)| {
            let mut s = SubRecords::new(id_size);
            f(&mut s);
            s.buf
        };
        let mut classes = Vec::new();
        for c in &self.classes {
            let spec = ClassDumpSpec {
                class_id: c.id,
                stack_serial: CLASS_TRACE_SERIAL,
                super_id: c.super_id,
                loader_id: c.loader_id,
                instance_size: self
                    .all_fields(c.id)
                    .iter()
                    .map(|(_, t)| t.dump_size(id_size) as u32)
                    .sum(),
                statics: c
                    .statics
                    .iter()
                    .map(|(n, v)| (self.utf8_ids[n], *v))
                    .collect(),
                fields: c
                    .fields
                    .iter()
                    .map(|(n, t)| (self.utf8_ids[n], *t))
                    .collect(),
                ..Default::default()
            };
            classes.push(one(&|s| {
                s.class_dump(&spec);
            }));
        }
        let mut roots = Vec::new();
        for t in &self.threads {
            if t.style == ThreadStyle::RootThreadObject {
                roots.push(one(&|s| {
                    s.root(&Root::ThreadObject {
                        object: t.object,
                        thread: t.serial,
                        stack: t.stack_serial,
                    });
                }));
            }
        }
        for r in &self.roots {
            roots.push(one(&|s| {
                s.root(r);
            }));
        }
        let mut objects: Vec<Vec<u8>> = self
            .objects
            .iter()
            .map(|o| {
                one(&|s| {
                    match &o.kind {
                        ObjKind::Instance { class, values } => {
                            s.instance(o.id, CLASS_TRACE_SERIAL, *class, values)
                        }
                        ObjKind::ObjectArray { class, elements } => {
                            s.object_array(o.id, CLASS_TRACE_SERIAL, *class, elements)
                        }
                        ObjKind::PrimitiveArray(d) => {
                            s.primitive_array(o.id, CLASS_TRACE_SERIAL, d)
                        }
                        ObjKind::PrimitiveArrayNoData { ty, length } => {
                            s.primitive_array_nodata(o.id, CLASS_TRACE_SERIAL, *ty, *length)
                        }
                    };
                })
            })
            .collect();
        if let Some(seed) = self.shuffle_seed {
            let mut rng = XorShift::new(seed);
            for i in (1..objects.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                objects.swap(i, j);
            }
        }
        let mut all = Vec::new();
        if self.android_heap_info {
            let name = self.utf8_ids.get("app").copied().unwrap_or(0);
            all.push(one(&|s| {
                s.heap_dump_info(0x41, name);
            }));
        }
        if self.instances_before_classes {
            all.extend(objects);
            all.extend(roots);
            all.extend(classes);
        } else {
            all.extend(classes);
            all.extend(roots);
            all.extend(objects);
        }
        all.extend(self.extra_sub_records.iter().cloned());
        all
    }

    /// Writes the dump.
    pub fn build(&self) -> Dump {
        let mut me_names = self.utf8.clone();
        // Android's heap name, when asked for, needs a UTF8 record too.
        let mut utf8_ids = self.utf8_ids.clone();
        if self.android_heap_info && !utf8_ids.contains_key("app") {
            // Not registered through name_id (build takes &self): use a fixed id.
            let id = 0x000F_FFF8;
            utf8_ids.insert("app".into(), id);
            me_names.push((id, "app".into()));
        }
        let id_size = self.id_size;
        let mut w = HprofWriter::new(self.version, id_size, self.timestamp_ms);
        let extras = |w: &mut HprofWriter, at: Placement| {
            for (p, t, b) in &self.extra_records {
                if *p == at {
                    w.record(*t, b);
                }
            }
        };
        extras(&mut w, Placement::Start);
        let metadata = |w: &mut HprofWriter| {
            for (id, text) in &me_names {
                w.utf8(*id, text);
            }
            for c in &self.classes {
                w.load_class(
                    c.serial,
                    c.id,
                    CLASS_TRACE_SERIAL,
                    utf8_ids[&jvm_class_name(&c.name)],
                );
            }
            w.stack_trace(CLASS_TRACE_SERIAL, 0, &[]);
            for t in &self.threads {
                for (fid, f) in &t.frames {
                    let class_serial = self
                        .classes
                        .iter()
                        .find(|c| c.name == f.class)
                        .map(|c| c.serial)
                        .unwrap_or(0);
                    w.stack_frame(
                        *fid,
                        utf8_ids[&f.method],
                        utf8_ids[&f.signature],
                        utf8_ids[&f.source],
                        class_serial,
                        f.line,
                    );
                }
                let ids: Vec<u64> = t.frames.iter().map(|(id, _)| *id).collect();
                w.stack_trace(t.stack_serial, t.serial, &ids);
                if t.style == ThreadStyle::StartThread {
                    w.start_thread(
                        t.serial,
                        t.object,
                        t.stack_serial,
                        utf8_ids[&t.name],
                        utf8_ids["main"],
                        0,
                    );
                }
            }
        };
        if self.order == Order::HotSpot {
            metadata(&mut w);
        }
        if self.heap_summary {
            let e = self.expected_histogram(&LayoutSpec::COMPRESSED);
            w.heap_summary(
                e.shallow_bytes as u32,
                e.objects as u32,
                e.shallow_bytes,
                e.objects,
            );
        }
        extras(&mut w, Placement::BeforeHeap);
        let subs = self.heap_sub_records();
        if self.segments == 0 {
            let mut body = SubRecords::new(id_size);
            for s in &subs {
                body.starts.push(body.buf.len());
                body.buf.extend_from_slice(s);
            }
            match self.heap_dump_length {
                Some(len) => w.heap_dump_with_length(&body, len),
                None => w.heap_dump(&body),
            };
        } else {
            let per = subs.len().div_ceil(self.segments).max(1);
            let mut chunks: Vec<&[Vec<u8>]> = subs.chunks(per).collect();
            while chunks.len() < self.segments {
                chunks.push(&[]);
            }
            for chunk in chunks {
                let mut body = SubRecords::new(id_size);
                for s in chunk {
                    body.starts.push(body.buf.len());
                    body.buf.extend_from_slice(s);
                }
                w.heap_dump_segment(&body);
            }
        }
        extras(&mut w, Placement::AfterHeap);
        if self.heap_dump_end.unwrap_or(self.segments > 0) {
            w.heap_dump_end();
        }
        if self.order == Order::MetadataLast {
            metadata(&mut w);
        }
        extras(&mut w, Placement::End);
        let header_len = w.header_len();
        let record_starts = w.record_starts().to_vec();
        let raw = w.finish();
        let bytes = match self.gzip {
            Gzip::None => raw.clone(),
            Gzip::Single => gzip_single(&raw),
            Gzip::Chunked { block_size } => gzip_chunked(&raw, block_size),
        };
        Dump {
            bytes,
            raw,
            record_starts,
            header_len,
        }
    }
}

/// One gzip member.
pub fn gzip_single(raw: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(raw).unwrap();
    e.finish().unwrap()
}

/// `jcmd GC.heap_dump -gz` style: one member per `block_size` bytes, the first member's
/// comment `HPROF BLOCKSIZE=<block_size>`.
pub fn gzip_chunked(raw: &[u8], block_size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, chunk) in raw.chunks(block_size.max(1)).enumerate() {
        let builder = if i == 0 {
            flate2::GzBuilder::new().comment(format!("HPROF BLOCKSIZE={block_size}"))
        } else {
            flate2::GzBuilder::new()
        };
        let mut e = builder.write(Vec::new(), flate2::Compression::fast());
        e.write_all(chunk).unwrap();
        out.extend(e.finish().unwrap());
    }
    if raw.is_empty() {
        out = gzip_single(raw);
    }
    out
}

/// A tiny deterministic RNG for tests (xorshift64*).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// A few hundred objects of every kind: classes with statics and a hierarchy, instances with
/// reference and primitive fields, strings, arrays, a thread with frames, roots of every kind.
/// Used by the truncation sweep and as a fuzzing seed.
pub fn realistic_heap(id_size: usize, objects: usize) -> HeapBuilder {
    let mut b = HeapBuilder::new(id_size);
    let obj = b.object_class;
    let base = b.class(
        "com.example.Base",
        Some(obj),
        &[("id", Ty::Long), ("owner", Ty::Object)],
    );
    let node = b.class(
        "com.example.Node",
        Some(base),
        &[
            ("next", Ty::Object),
            ("value", Ty::Int),
            ("flag", Ty::Boolean),
            ("ratio", Ty::Double),
            ("c", Ty::Char),
            ("s", Ty::Short),
            ("f", Ty::Float),
            ("b", Ty::Byte),
        ],
    );
    let inner = b.class(
        "com.example.Outer$Inner",
        Some(obj),
        &[("payload", Ty::Object)],
    );
    b.add_static(node, "COUNT", Val::Int(objects as i32));
    b.add_static(inner, "LOCK", Val::Object(0));
    let t = b.thread(
        "main",
        &[
            FrameDef::new("com.example.Main", "work", "Main.java", 42),
            FrameDef::new("com.example.Main", "main", "Main.java", 7),
        ],
    );
    let mut prev = 0u64;
    let mut nodes = Vec::new();
    for i in 0..objects {
        let o = match i % 5 {
            0 => b.string(&format!("string number {i}")),
            1 => {
                let n = b.instance(node);
                b.set(n, "next", Val::Object(prev));
                b.set(n, "value", Val::Int(i as i32));
                b.set(n, "id", Val::Long(i as i64 * 1000));
                b.set(n, "flag", Val::Boolean(i % 2 == 0));
                b.set(n, "ratio", Val::Double(i as f64 / 3.0));
                nodes.push(n);
                n
            }
            2 => b.primitive_array(PrimData::Int((0..(i % 17) as i32).collect())),
            3 => {
                let arr = b.object_array(
                    "java.lang.Object[]",
                    &nodes[nodes.len().saturating_sub(3)..],
                );
                let x = b.instance(inner);
                b.set(x, "payload", Val::Object(arr));
                x
            }
            _ => b.primitive_array(PrimData::Long(vec![i as i64; i % 7])),
        };
        prev = o;
    }
    b.root(Root::JavaFrame {
        object: prev,
        thread: t.serial,
        frame: 0,
    });
    // Thread-bound roots on a thread serial of their own, so they do not replace `main`.
    for r in Root::every_kind(nodes[0], 1000) {
        b.root(r);
    }
    b.root(Root::StickyClass(node));
    b
}

/// A heap with `sessions` instances of `Session`, held by a JNI global array, written in
/// `segments` heap-dump segments.
pub fn sessions_heap(sessions: usize, segments: usize) -> HeapBuilder {
    let mut b = HeapBuilder::new(8).segments(segments);
    let object = b.object_class;
    let session = b.class("Session", Some(object), &[("id", Ty::Int)]);
    let ids: Vec<u64> = (0..sessions)
        .map(|i| b.instance_with(session, &[("id", Val::Int(i as i32))]))
        .collect();
    let holder = b.object_array("Session[]", &ids);
    b.root(Root::JniGlobal {
        object: holder,
        jni_ref: 0x99,
    });
    b
}
