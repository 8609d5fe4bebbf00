//! Object layouts of VMs that cannot run here (JDK 6, 7, 8; 32-bit; uncompressed oops), on
//! hand-made dumps: each dump declares the classes a VM generation is told by (`String`'s
//! fields, `HashMap$Node`) and a few hierarchies whose sizes differ between the layout rules,
//! and places its objects contiguously at the sizes worked out by hand from HotSpot's
//! `classFileParser.cpp` (the expected numbers below). heapsight must tell the generation,
//! size every class as that VM did, and find its own sizes confirmed by the addresses.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use heapsight::analysis::histogram::histogram;
use heapsight::heap::HeapIndex;
use heapsight::progress::Progress;
use support::hprof_writer::*;

/// One VM: what its dump holds and the instance sizes it had.
struct Vm {
    name: &'static str,
    id_size: usize,
    /// `java.lang.String`'s fields.
    string: &'static [(&'static str, Ty)],
    /// JDK 8 has `java.util.HashMap$Node`.
    hash_map_node: bool,
    /// Expected `vm.jdk` and layout words.
    jdk: &'static str,
    shape: &'static str,
    /// Sizes of A, B, C, ArrayList, String, ClassLoader, Loader.
    sizes: [u64; 7],
}

const NAMES: [&str; 7] = [
    "A",
    "B",
    "C",
    "java.util.ArrayList",
    "java.lang.String",
    "java.lang.ClassLoader",
    "Loader",
];

const JDK6_STRING: &[(&str, Ty)] = &[
    ("value", Ty::Object),
    ("offset", Ty::Int),
    ("count", Ty::Int),
    ("hash", Ty::Int),
];
const JDK7_STRING: &[(&str, Ty)] = &[
    ("value", Ty::Object),
    ("hash", Ty::Int),
    ("hash32", Ty::Int),
];
const JDK8_STRING: &[(&str, Ty)] = &[("value", Ty::Object), ("hash", Ty::Int)];
const JDK17_STRING: &[(&str, Ty)] = &[
    ("value", Ty::Object),
    ("hash", Ty::Int),
    ("coder", Ty::Byte),
    ("hashIsZero", Ty::Boolean),
];

/// Builds the dump: the classes, then `per_class` instances of each class, round robin,
/// each at the previous one's address plus its expected size.
fn dump_of(vm: &Vm, per_class: usize) -> Dump {
    dump_with_version(vm, per_class, None)
}

/// Like [`dump_of`]; with `java_version`, `System.props` is a `HashMap` holding
/// `java.version` (its objects sit apart, below the measured ones).
fn dump_with_version(vm: &Vm, per_class: usize, java_version: Option<&str>) -> Dump {
    let mut b = HeapBuilder::new(vm.id_size);
    // The builder's String gets this VM's fields.
    let string = b.string_class;
    for (field, _) in vm.string {
        b.name_id(field);
    }
    if let Some(def) = b.classes.iter_mut().find(|c| c.id == string) {
        def.fields = vm.string.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    }
    if vm.hash_map_node {
        b.class(
            "java.util.HashMap$Node",
            Some(b.object_class),
            &[
                ("hash", Ty::Int),
                ("key", Ty::Object),
                ("value", Ty::Object),
                ("next", Ty::Object),
            ],
        );
    }
    let object = b.object_class;
    let a = b.class("A", Some(object), &[("a", Ty::Long)]);
    let bb = b.class("B", Some(a), &[("b", Ty::Int)]);
    let c = b.class("C", Some(bb), &[("c", Ty::Byte), ("d", Ty::Object)]);
    let collection = b.class("java.util.AbstractCollection", Some(object), &[]);
    let list = b.class(
        "java.util.AbstractList",
        Some(collection),
        &[("modCount", Ty::Int)],
    );
    let array_list = b.class(
        "java.util.ArrayList",
        Some(list),
        &[("elementData", Ty::Object), ("size", Ty::Int)],
    );
    let loader = b.class(
        "java.lang.ClassLoader",
        Some(object),
        &[
            ("parent", Ty::Object),
            ("defaultAssertionStatus", Ty::Boolean),
        ],
    );
    let plugin = b.class_with_loader("Loader", Some(loader), 0x1234_5678, &[("name", Ty::Object)]);
    if let Some(version) = java_version {
        b.place_next_at(0x6_0000_0000);
        let map_class = b.class(
            "java.util.HashMap",
            Some(object),
            &[("table", Ty::Object), ("size", Ty::Int)],
        );
        let node_class = b.class_id("java.util.HashMap$Node");
        let key = b.string("java.version");
        let value = b.string(version);
        let node = b.instance_with(
            node_class,
            &[("key", Val::Object(key)), ("value", Val::Object(value))],
        );
        let table = b.object_array("java.util.HashMap$Node[]", &[node]);
        let map = b.instance_with(
            map_class,
            &[("table", Val::Object(table)), ("size", Val::Int(1))],
        );
        let system = b.class("java.lang.System", Some(object), &[]);
        b.add_static(system, "props", Val::Object(map));
    }
    let classes = [a, bb, c, array_list, b.string_class, loader, plugin];
    let mut address = if vm.id_size == 4 {
        0x1000_0000
    } else {
        0x7_0000_0000
    };
    for _ in 0..per_class {
        for (class, size) in classes.iter().zip(vm.sizes) {
            b.place_next_at(address);
            b.instance(*class);
            address += size;
        }
    }
    b.build()
}

fn check(vm: &Vm) {
    let dir = tempfile::tempdir().unwrap();
    let path = dump_of(vm, 400).write_to(dir.path(), "vm.hprof");
    let index = HeapIndex::open(&path, &Progress::new()).expect("opens");
    let layout = index.layout();
    assert_eq!(
        layout.jdk.name(),
        vm.jdk,
        "{}: generation ({})",
        vm.name,
        layout.jdk_reason
    );
    assert!(
        layout.shape.name().contains(vm.shape),
        "{}: shape {} is not {}",
        vm.name,
        layout.shape.name(),
        vm.shape
    );
    assert!(
        layout.evidence.corrected.is_empty(),
        "{}: sizes corrected from addresses: {:?}",
        vm.name,
        layout.evidence.corrected
    );
    let e = &layout.evidence;
    assert!(
        e.pairs > 2000 && e.matching + 1 >= e.pairs,
        "{}: address check {} of {}",
        vm.name,
        e.matching,
        e.pairs
    );
    let h = histogram(&index);
    for (name, size) in NAMES.iter().zip(vm.sizes) {
        let class = index.classes().by_name(name).next().expect("class exists");
        let row = h.rows.iter().find(|r| r.class == class).expect("row");
        assert_eq!(row.count, 400, "{}: {name} count", vm.name);
        assert_eq!(row.shallow_bytes, 400 * size, "{}: {name} size", vm.name);
    }
}

#[test]
fn jdk6_64_bit_uncompressed_oops() {
    check(&Vm {
        name: "JDK 6 x64",
        id_size: 8,
        string: JDK6_STRING,
        hash_map_node: false,
        jdk: "JDK 5/6",
        shape: "uncompressed oops and class pointers",
        // ArrayList 40 as jmap says (the JDK 15+ rules would give 32).
        sizes: [24, 32, 48, 40, 40, 32, 40],
    });
}

#[test]
fn jdk6_32_bit() {
    check(&Vm {
        name: "JDK 6 x86",
        id_size: 4,
        string: JDK6_STRING,
        hash_map_node: false,
        jdk: "JDK 5/6",
        shape: "32-bit",
        // String 24 as jmap says: no injected field before JDK 17.
        sizes: [16, 24, 32, 24, 24, 16, 24],
    });
}

#[test]
fn jdk7_64_bit_compressed_oops() {
    check(&Vm {
        name: "JDK 7u21 x64",
        id_size: 8,
        string: JDK7_STRING,
        hash_map_node: false,
        jdk: "JDK 7",
        shape: "compressed oops and class pointers",
        sizes: [24, 32, 40, 24, 24, 24, 24],
    });
}

#[test]
fn jdk8_64_bit_compressed_oops() {
    check(&Vm {
        name: "JDK 8 x64",
        id_size: 8,
        string: JDK8_STRING,
        hash_map_node: true,
        jdk: "JDK 8",
        shape: "compressed oops and class pointers",
        // ClassLoader carries the injected loader_data pointer from JDK 8 on.
        sizes: [24, 32, 40, 24, 24, 32, 32],
    });
}

#[test]
fn jdk8_64_bit_uncompressed_oops() {
    check(&Vm {
        name: "JDK 8 x64 -XX:-UseCompressedOops",
        id_size: 8,
        string: JDK8_STRING,
        hash_map_node: true,
        jdk: "JDK 8",
        shape: "uncompressed oops and class pointers",
        sizes: [24, 32, 48, 40, 32, 40, 48],
    });
}

#[test]
fn jdk8_32_bit() {
    check(&Vm {
        name: "JDK 8 x86",
        id_size: 4,
        string: JDK8_STRING,
        hash_map_node: true,
        jdk: "JDK 8",
        shape: "32-bit",
        // ClassLoader: parent 8, loader_data (a 4-byte pointer) 12, boolean 16.
        sizes: [16, 24, 32, 24, 16, 24, 24],
    });
}

#[test]
fn jdk17_packs_fields_into_superclass_holes() {
    check(&Vm {
        name: "JDK 17 x64",
        id_size: 8,
        string: JDK17_STRING,
        hash_map_node: true,
        jdk: "JDK 15-18",
        shape: "compressed oops and class pointers",
        // B's int back-fills A's hole after the header; ClassLoader +8 (loader_data).
        sizes: [24, 24, 32, 24, 24, 32, 32],
    });
}

/// Shapes of JDK 15+ (`String.hashIsZero`), but `java.version` says 1.8.0_202 and the
/// objects sit at JDK 8's sizes: the property wins, and the report says both and which won.
#[test]
fn java_version_property_overrules_the_class_shapes() {
    let vm = Vm {
        name: "JDK 17 shapes, java.version 1.8.0_202",
        id_size: 8,
        string: JDK17_STRING,
        hash_map_node: true,
        jdk: "JDK 8",
        shape: "compressed oops and class pointers",
        // JDK 8's grouping: B's int does not back-fill A's hole.
        sizes: [24, 32, 40, 24, 24, 32, 32],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dump_with_version(&vm, 400, Some("1.8.0_202")).write_to(dir.path(), "vm.hprof");
    let index = HeapIndex::open(&path, &Progress::new()).expect("opens");
    let layout = index.layout();
    assert_eq!(layout.jdk.name(), "JDK 8", "{}", layout.jdk_reason);
    let choice = &layout.jdk_choice;
    assert_eq!(choice.java_version.as_deref(), Some("1.8.0_202"));
    assert!(choice.from_property);
    assert!(choice.class_shapes.starts_with("JDK 15-18"), "{choice:?}");
    let d = choice.disagreement.as_deref().expect("disagreement told");
    assert!(
        d.contains("1.8.0_202") && d.contains("JDK 8") && d.contains("JDK 15-18"),
        "{d}"
    );
    assert!(layout.jdk_reason.contains("java.version 1.8.0_202"));
    let h = histogram(&index);
    for (name, size) in NAMES.iter().zip(vm.sizes) {
        let class = index.classes().by_name(name).next().expect("class exists");
        let row = h.rows.iter().find(|r| r.class == class).expect("row");
        let strings = if *name == "java.lang.String" { 2 } else { 0 };
        assert_eq!(row.count, 400 + strings, "{name} count");
        assert_eq!(row.shallow_bytes, (400 + strings) * size, "{name} size");
    }
    let e = &layout.evidence;
    assert!(e.matching + 10 >= e.pairs, "{} of {}", e.matching, e.pairs);

    // The report: JSON keys, and the text names both and which won.
    let json = report(&path, true);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let vm_json = &v["vm"];
    assert_eq!(vm_json["jdk"], "JDK 8", "{vm_json:#}");
    assert_eq!(vm_json["java_version"], "1.8.0_202");
    assert_eq!(vm_json["jdk_source"], "system property java.version");
    assert!(vm_json["disagreement"]
        .as_str()
        .unwrap()
        .contains("JDK 15-18"));
    let text = report(&path, false);
    assert!(
        text.contains("Note: java.version 1.8.0_202 says JDK 8 but the class shapes say"),
        "{text}"
    );
}

/// When `java.version` and the class shapes agree, the report says both and nothing else.
#[test]
fn java_version_property_agreeing_with_the_class_shapes() {
    let vm = Vm {
        name: "JDK 17, java.version 17.0.15",
        id_size: 8,
        string: JDK17_STRING,
        hash_map_node: true,
        jdk: "JDK 15-18",
        shape: "compressed oops and class pointers",
        sizes: [24, 24, 32, 24, 24, 32, 32],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dump_with_version(&vm, 400, Some("17.0.15")).write_to(dir.path(), "vm.hprof");
    let index = HeapIndex::open(&path, &Progress::new()).expect("opens");
    let layout = index.layout();
    assert_eq!(layout.jdk.name(), "JDK 15-18", "{}", layout.jdk_reason);
    assert!(layout.jdk_choice.from_property);
    assert!(layout.jdk_choice.disagreement.is_none());
    assert!(
        layout.jdk_reason.contains("java.version 17.0.15")
            && layout.jdk_reason.contains("class shapes agree"),
        "{}",
        layout.jdk_reason
    );
}

/// `heapsight report DUMP [--json]`, its standard output.
fn report(path: &std::path::Path, json: bool) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_heapsight"));
    cmd.args(["report", path.to_str().unwrap(), "--no-index"]);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("heapsight runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
