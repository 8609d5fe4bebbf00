//! JVM command-line flags that matter for memory, parsed from the JVM arguments (and
//! `JAVA_OPTS`-style environment variables) found in the dump; sizes and rounding.

/// Memory-related flags, when given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JvmFlags {
    pub max_heap: Option<u64>,
    pub initial_heap: Option<u64>,
    pub thread_stack: Option<u64>,
    pub max_direct_memory: Option<u64>,
    pub max_metaspace: Option<u64>,
    pub max_perm_size: Option<u64>,
    pub perm_size: Option<u64>,
    pub min_heap_free_ratio: Option<u32>,
    pub max_heap_free_ratio: Option<u32>,
    /// `-XX:+UseG1GC` etc., last one wins.
    pub gc_flag: Option<String>,
}

/// `512m`, `4g`, `1024k`, `1048576` → bytes (`-Xss`-style suffixes, case-insensitive).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_lowercase() {
        'k' => (&s[..s.len() - 1], 1u64 << 10),
        'm' => (&s[..s.len() - 1], 1 << 20),
        'g' => (&s[..s.len() - 1], 1 << 30),
        't' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// Bytes as a flag value: `2g`, `768m`, `512k`, or plain bytes.
pub fn format_size(b: u64) -> String {
    if b > 0 && b % (1 << 30) == 0 {
        format!("{}g", b >> 30)
    } else if b > 0 && b % (1 << 20) == 0 {
        format!("{}m", b >> 20)
    } else if b > 0 && b % (1 << 10) == 0 {
        format!("{}k", b >> 10)
    } else {
        b.to_string()
    }
}

/// Rounds a heap size up: to 64 MB steps below 1 GB, to 256 MB steps below 8 GB, to whole GB
/// above; never below 64 MB.
pub fn round_heap(b: u64) -> u64 {
    let step: u64 = if b < 1 << 30 {
        64 << 20
    } else if b < 8 << 30 {
        256 << 20
    } else {
        1 << 30
    };
    b.div_ceil(step).max(1) * step
}

impl JvmFlags {
    pub fn parse<S: AsRef<str>>(args: &[S]) -> JvmFlags {
        let mut f = JvmFlags::default();
        for a in args {
            let a = a.as_ref().trim();
            let kv = |prefix: &str| a.strip_prefix(prefix);
            if let Some(v) = kv("-Xmx").or_else(|| kv("-XX:MaxHeapSize=")) {
                f.max_heap = parse_size(v).or(f.max_heap);
            } else if let Some(v) = kv("-Xms").or_else(|| kv("-XX:InitialHeapSize=")) {
                f.initial_heap = parse_size(v).or(f.initial_heap);
            } else if let Some(v) = kv("-Xss") {
                f.thread_stack = parse_size(v).or(f.thread_stack);
            } else if let Some(v) = kv("-XX:ThreadStackSize=") {
                // In KB.
                f.thread_stack = parse_size(v).map(|k| k << 10).or(f.thread_stack);
            } else if let Some(v) = kv("-XX:MaxDirectMemorySize=") {
                f.max_direct_memory = parse_size(v);
            } else if let Some(v) = kv("-XX:MaxMetaspaceSize=") {
                f.max_metaspace = parse_size(v);
            } else if let Some(v) = kv("-XX:MaxPermSize=") {
                f.max_perm_size = parse_size(v);
            } else if let Some(v) = kv("-XX:PermSize=") {
                f.perm_size = parse_size(v);
            } else if let Some(v) = kv("-XX:MinHeapFreeRatio=") {
                f.min_heap_free_ratio = v.parse().ok();
            } else if let Some(v) = kv("-XX:MaxHeapFreeRatio=") {
                f.max_heap_free_ratio = v.parse().ok();
            } else if let Some(gc) = kv("-XX:+Use").and_then(|g| g.strip_suffix("GC")) {
                if matches!(
                    gc,
                    "G1" | "Parallel"
                        | "ParallelOld"
                        | "Serial"
                        | "ConcMarkSweep"
                        | "Z"
                        | "Shenandoah"
                        | "Epsilon"
                ) {
                    f.gc_flag = Some(gc.to_string());
                }
            }
        }
        f
    }

    /// The collector the flags select.
    pub fn collector(&self) -> Option<&'static str> {
        Some(match self.gc_flag.as_deref()? {
            "G1" => "G1",
            "Parallel" | "ParallelOld" => "Parallel",
            "Serial" => "Serial",
            "ConcMarkSweep" => "CMS",
            "Z" => "ZGC",
            "Shenandoah" => "Shenandoah",
            "Epsilon" => "Epsilon",
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("x"), None);
        assert_eq!(format_size(2 << 30), "2g");
        assert_eq!(format_size(768 << 20), "768m");
        assert_eq!(format_size(512 << 10), "512k");
    }

    #[test]
    fn rounding() {
        assert_eq!(round_heap(1), 64 << 20);
        assert_eq!(round_heap(100 << 20), 128 << 20);
        assert_eq!(round_heap((1 << 30) + 1), (1 << 30) + (256 << 20));
        assert_eq!(round_heap((9 << 30) + 5), 10 << 30);
        // 4 × a 300 MB live set = 1200 MB → 1.25 GB.
        assert_eq!(round_heap(4 * (300 << 20)), 1280 << 20);
    }

    #[test]
    fn parses_flags() {
        let f = JvmFlags::parse(&[
            "-Xms64m",
            "-Xmx1g",
            "-XX:MaxHeapFreeRatio=100",
            "-XX:MinHeapFreeRatio=0",
            "-XX:+UseG1GC",
            "-XX:ThreadStackSize=512",
            "-XX:MaxPermSize=256m",
        ]);
        assert_eq!(f.initial_heap, Some(64 << 20));
        assert_eq!(f.max_heap, Some(1 << 30));
        assert_eq!(f.max_heap_free_ratio, Some(100));
        assert_eq!(f.min_heap_free_ratio, Some(0));
        assert_eq!(f.collector(), Some("G1"));
        assert_eq!(f.thread_stack, Some(512 << 10));
        assert_eq!(f.max_perm_size, Some(256 << 20));
    }
}
