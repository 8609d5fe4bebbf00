//! Value types and GC-root kinds as the format numbers them.

/// A field or array element type (HPROF "basic type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum BasicType {
    Object = 2,
    Boolean = 4,
    Char = 5,
    Float = 6,
    Double = 7,
    Byte = 8,
    Short = 9,
    Int = 10,
    Long = 11,
}

impl BasicType {
    pub const PRIMITIVES: [BasicType; 8] = [
        BasicType::Boolean,
        BasicType::Char,
        BasicType::Float,
        BasicType::Double,
        BasicType::Byte,
        BasicType::Short,
        BasicType::Int,
        BasicType::Long,
    ];

    #[inline]
    pub fn from_u8(v: u8) -> Option<BasicType> {
        Some(match v {
            2 => BasicType::Object,
            4 => BasicType::Boolean,
            5 => BasicType::Char,
            6 => BasicType::Float,
            7 => BasicType::Double,
            8 => BasicType::Byte,
            9 => BasicType::Short,
            10 => BasicType::Int,
            11 => BasicType::Long,
            _ => return None,
        })
    }

    /// Size of a value of this type in the dump (references take the identifier size).
    #[inline]
    pub fn size_in_dump(self, id_size: usize) -> usize {
        match self {
            BasicType::Object => id_size,
            other => other.primitive_size(),
        }
    }

    /// Size of a primitive value (references: 0, the layout decides).
    #[inline]
    pub fn primitive_size(self) -> usize {
        match self {
            BasicType::Object => 0,
            BasicType::Boolean | BasicType::Byte => 1,
            BasicType::Char | BasicType::Short => 2,
            BasicType::Float | BasicType::Int => 4,
            BasicType::Double | BasicType::Long => 8,
        }
    }

    /// Java name of the type: `int`, `boolean`, … (`Object` for references).
    pub fn java_name(self) -> &'static str {
        match self {
            BasicType::Object => "Object",
            BasicType::Boolean => "boolean",
            BasicType::Char => "char",
            BasicType::Float => "float",
            BasicType::Double => "double",
            BasicType::Byte => "byte",
            BasicType::Short => "short",
            BasicType::Int => "int",
            BasicType::Long => "long",
        }
    }

    /// JVM descriptor of a one-dimensional array of this primitive: `[I`.
    pub fn array_descriptor(self) -> &'static str {
        match self {
            BasicType::Object => "[Ljava/lang/Object;",
            BasicType::Boolean => "[Z",
            BasicType::Char => "[C",
            BasicType::Float => "[F",
            BasicType::Double => "[D",
            BasicType::Byte => "[B",
            BasicType::Short => "[S",
            BasicType::Int => "[I",
            BasicType::Long => "[J",
        }
    }
}

/// Kinds of GC roots, HotSpot's and Android's.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[repr(u8)]
pub enum RootKind {
    Unknown,
    JniGlobal,
    JniLocal,
    JavaFrame,
    NativeStack,
    StickyClass,
    ThreadBlock,
    MonitorUsed,
    ThreadObject,
    InternedString,
    Finalizing,
    Debugger,
    ReferenceCleanup,
    VmInternal,
    JniMonitor,
    Unreachable,
}

impl RootKind {
    pub const ALL: [RootKind; 16] = [
        RootKind::Unknown,
        RootKind::JniGlobal,
        RootKind::JniLocal,
        RootKind::JavaFrame,
        RootKind::NativeStack,
        RootKind::StickyClass,
        RootKind::ThreadBlock,
        RootKind::MonitorUsed,
        RootKind::ThreadObject,
        RootKind::InternedString,
        RootKind::Finalizing,
        RootKind::Debugger,
        RootKind::ReferenceCleanup,
        RootKind::VmInternal,
        RootKind::JniMonitor,
        RootKind::Unreachable,
    ];

    /// Stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RootKind::Unknown => "unknown",
            RootKind::JniGlobal => "jni_global",
            RootKind::JniLocal => "jni_local",
            RootKind::JavaFrame => "java_frame",
            RootKind::NativeStack => "native_stack",
            RootKind::StickyClass => "sticky_class",
            RootKind::ThreadBlock => "thread_block",
            RootKind::MonitorUsed => "monitor_used",
            RootKind::ThreadObject => "thread_object",
            RootKind::InternedString => "interned_string",
            RootKind::Finalizing => "finalizing",
            RootKind::Debugger => "debugger",
            RootKind::ReferenceCleanup => "reference_cleanup",
            RootKind::VmInternal => "vm_internal",
            RootKind::JniMonitor => "jni_monitor",
            RootKind::Unreachable => "unreachable",
        }
    }
}

/// A decoded field or array value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
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

impl Value {
    /// Decodes a value of type `ty` from the start of `b`, which must hold enough bytes.
    pub fn decode(ty: BasicType, b: &[u8], id_size: usize) -> Option<Value> {
        let n = ty.size_in_dump(id_size);
        let b = b.get(..n)?;
        Some(match ty {
            BasicType::Object => Value::Object(super::cursor::read_id(b, id_size)),
            BasicType::Boolean => Value::Boolean(b[0] != 0),
            BasicType::Byte => Value::Byte(b[0] as i8),
            BasicType::Char => Value::Char(u16::from_be_bytes([b[0], b[1]])),
            BasicType::Short => Value::Short(i16::from_be_bytes([b[0], b[1]])),
            BasicType::Int => Value::Int(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            BasicType::Float => Value::Float(f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            BasicType::Long => Value::Long(i64::from_be_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ])),
            BasicType::Double => Value::Double(f64::from_be_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ])),
        })
    }

    pub fn as_object(self) -> Option<u64> {
        match self {
            Value::Object(id) => Some(id),
            _ => None,
        }
    }

    /// Integral values widened to i64 (booleans as 0/1), for reading counters and flags.
    pub fn as_i64(self) -> Option<i64> {
        Some(match self {
            Value::Boolean(b) => b as i64,
            Value::Byte(v) => v as i64,
            Value::Char(v) => v as i64,
            Value::Short(v) => v as i64,
            Value::Int(v) => v as i64,
            Value::Long(v) => v,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Object(0) => write!(f, "null"),
            Value::Object(id) => write!(f, "0x{id:x}"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::Char(v) => match char::from_u32(*v as u32) {
                Some(c) if !c.is_control() => write!(f, "'{c}'"),
                _ => write!(f, "'\\u{v:04x}'"),
            },
            Value::Float(v) => write!(f, "{v}"),
            Value::Double(v) => write!(f, "{v}"),
            Value::Byte(v) => write!(f, "{v}"),
            Value::Short(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Long(v) => write!(f, "{v}"),
        }
    }
}
