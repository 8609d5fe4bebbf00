//! Threads: the thread object, its name, its stack trace, and what each frame holds.

use rustc_hash::FxHashMap;

use super::classes::java_class_name;
use super::{HeapIndex, ObjectId};
use crate::hprof::RootKind;

pub(super) struct RawFrame {
    pub method_name_id: u64,
    pub signature_id: u64,
    pub source_file_id: u64,
    pub class_serial: u32,
    pub line: i32,
}

pub(super) struct RawTrace {
    pub thread_serial: u32,
    pub frames: Vec<u64>,
}

pub(super) struct RawThread {
    pub serial: u32,
    pub object_id: u64,
    pub stack_serial: u32,
    pub name_id: Option<u64>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FrameInfo {
    /// `java.lang.Thread.sleep`
    pub method: String,
    pub signature: String,
    pub source_file: String,
    /// > 0: line number; 0: none; -1 unknown; -2 compiled; -3 native (HPROF's encoding).
    pub line: i32,
    /// Objects held by local variables of this frame (Java-frame and JNI-local roots).
    pub locals: Vec<ObjectId>,
}

impl FrameInfo {
    /// `java.lang.Thread.sleep(Thread.java:123)`, as a Java stack trace prints it.
    pub fn display(&self) -> String {
        let location = match self.line {
            -3 => "Native Method".to_string(),
            -2 => format!("{} (compiled)", self.source_file),
            l if l > 0 => format!("{}:{l}", self.source_file),
            _ if self.source_file.is_empty() => "Unknown Source".to_string(),
            _ => self.source_file.clone(),
        };
        format!("{}({location})", self.method)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ThreadInfo {
    pub serial: u32,
    pub object: Option<ObjectId>,
    pub name: String,
    pub frames: Vec<FrameInfo>,
    /// Objects held by the thread but not tied to one frame (native stack, thread block).
    pub other_roots: Vec<ObjectId>,
}

pub(super) fn build_threads(
    index: &HeapIndex,
    raw: &[RawThread],
    traces: &FxHashMap<u32, RawTrace>,
    frames: &FxHashMap<u64, RawFrame>,
    class_serials: &FxHashMap<u32, u64>,
    class_names: &FxHashMap<u64, u64>,
    root_stacks: &FxHashMap<u32, u32>,
) -> Vec<ThreadInfo> {
    // HotSpot writes ROOT THREAD OBJECT sub-records instead of START THREAD records.
    let mut by_serial: FxHashMap<u32, (Option<u64>, u32, Option<u64>)> = FxHashMap::default();
    for t in raw {
        by_serial.insert(t.serial, (Some(t.object_id), t.stack_serial, t.name_id));
    }
    for r in index.roots() {
        if r.kind == RootKind::ThreadObject {
            if let Some(serial) = r.thread_serial {
                let e = by_serial.entry(serial).or_insert((None, 0, None));
                e.0 = Some(index.address(r.object));
                // ROOT THREAD OBJECT names the thread's stack trace too.
                if e.1 == 0 {
                    e.1 = root_stacks.get(&serial).copied().unwrap_or(0);
                }
            }
        }
    }
    for (&serial, t) in traces {
        if let Some(e) = by_serial.get_mut(&t.thread_serial) {
            if e.1 == 0 {
                e.1 = serial;
            }
        }
    }
    let text = |id: u64| index.utf8(id).unwrap_or("").to_string();
    let mut out: Vec<ThreadInfo> = by_serial
        .into_iter()
        .map(|(serial, (object_id, stack_serial, name_id))| {
            let object = object_id.and_then(|id| index.find(id));
            let name = object
                .and_then(|o| index.field_object(o, "name"))
                .and_then(|s| index.read_text(s, 1000))
                .or_else(|| name_id.and_then(|n| index.utf8(n)).map(str::to_string))
                .unwrap_or_else(|| format!("thread #{serial}"));
            let frames = traces
                .get(&stack_serial)
                .map(|t| {
                    t.frames
                        .iter()
                        .map(|fid| match frames.get(fid) {
                            Some(f) => {
                                let class = class_serials
                                    .get(&f.class_serial)
                                    .and_then(|cid| class_names.get(cid))
                                    .and_then(|&n| index.utf8(n))
                                    .map(java_class_name)
                                    .unwrap_or_default();
                                FrameInfo {
                                    method: format!("{class}.{}", text(f.method_name_id)),
                                    signature: text(f.signature_id),
                                    source_file: text(f.source_file_id),
                                    line: f.line,
                                    locals: Vec::new(),
                                }
                            }
                            None => FrameInfo {
                                method: format!("<frame 0x{fid:x}>"),
                                signature: String::new(),
                                source_file: String::new(),
                                line: -1,
                                locals: Vec::new(),
                            },
                        })
                        .collect()
                })
                .unwrap_or_default();
            ThreadInfo {
                serial,
                object,
                name,
                frames,
                other_roots: Vec::new(),
            }
        })
        .collect();
    out.sort_by_key(|t| t.serial);
    let pos: FxHashMap<u32, usize> = out.iter().enumerate().map(|(i, t)| (t.serial, i)).collect();
    for r in index.roots() {
        let Some(&ti) = r.thread_serial.and_then(|s| pos.get(&s)) else {
            continue;
        };
        let t = &mut out[ti];
        match (r.kind, r.frame) {
            (RootKind::ThreadObject, _) => {}
            (_, Some(depth)) if (depth as usize) < t.frames.len() => {
                t.frames[depth as usize].locals.push(r.object)
            }
            _ => t.other_roots.push(r.object),
        }
    }
    out
}
