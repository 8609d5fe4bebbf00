//! How the process gets memory back from the allocator.

/// Makes glibc's malloc give every block of 128 KiB or more its own mapping, returned to the
/// system when freed. By default the threshold grows with each freed block (up to 32 MiB), so
/// the analysis's many per-range buffers of a few hundred KiB to a few MiB (merged into one
/// array, then freed) stay in the worker threads' arenas and count as resident: on a
/// 25.8 M-object dump that kept the peak 225 MB (15 %) higher. Elsewhere this does nothing.
pub fn return_freed_memory_promptly() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; called once at start-up, before
    // threads that allocate exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// `len` zeros in `buffer`'s memory: where a freed array's pages are resident already,
/// writing zeros costs less than faulting in a fresh array's (on a virtual machine a fresh
/// page can cost a fault in the host too). An empty `buffer` allocates, as `vec![0; len]`.
pub fn zeroed_in<T: Copy + Default>(mut buffer: Vec<T>, len: usize) -> Vec<T> {
    if buffer.capacity() == 0 {
        return vec![T::default(); len];
    }
    buffer.clear();
    buffer.reserve_exact(len);
    buffer.resize(len, T::default());
    buffer
}

/// How much more memory the process can take before the system or its memory cgroup (v1 or
/// v2) runs out: the least of the system's available memory and each cgroup limit, up to
/// the root, less what the process holds of its own (anonymous pages; file pages the kernel
/// can drop). `None` where this cannot be read (not Linux).
pub fn headroom_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        linux::headroom_bytes()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Whether the process has less than `need` bytes left to take ([`headroom_bytes`]); false
/// where that is not known.
pub fn is_short_of(need: u64) -> bool {
    headroom_bytes().is_some_and(|headroom| headroom < need)
}

#[cfg(target_os = "linux")]
mod linux {
    use std::path::{Path, PathBuf};

    pub fn headroom_bytes() -> Option<u64> {
        let available = kib_field(
            &std::fs::read_to_string("/proc/meminfo").ok()?,
            "MemAvailable:",
        )?;
        let own = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| kib_field(&s, "RssAnon:"))
            .unwrap_or(0);
        let capped = cgroup_limits()
            .into_iter()
            .map(|limit| limit.saturating_sub(own))
            .min();
        Some(capped.map_or(available, |c| c.min(available)))
    }

    /// A `NAME: N kB` line of /proc/meminfo or /proc/self/status, in bytes.
    pub(super) fn kib_field(text: &str, name: &str) -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
        Some(kib * 1024)
    }

    /// The memory limits of the process's cgroups (v1 `memory` controller and v2), from its
    /// own up to the root: an outer cgroup may be the tighter.
    fn cgroup_limits() -> Vec<u64> {
        let Ok(own) = std::fs::read_to_string("/proc/self/cgroup") else {
            return Vec::new();
        };
        let mut limits = Vec::new();
        for line in own.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (root, file) = match controllers {
                c if c.split(',').any(|c| c == "memory") => {
                    ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
                }
                "" => ("/sys/fs/cgroup", "memory.max"),
                _ => continue,
            };
            let mut dir = PathBuf::from(root).join(path.trim_start_matches('/'));
            loop {
                if let Some(limit) = read_limit(&dir.join(file)) {
                    limits.push(limit);
                }
                if dir == Path::new(root) || !dir.pop() {
                    break;
                }
            }
        }
        limits
    }

    /// A limit file's value; `None` for "max", unreadable files, and v1's "no limit" (a
    /// number near 2⁶³).
    fn read_limit(path: &Path) -> Option<u64> {
        let value: u64 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
        (value < 1 << 60).then_some(value)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn headroom_is_known_and_below_the_machines_memory() {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| super::linux::kib_field(&m, "MemTotal:"))
            .unwrap();
        let headroom = super::headroom_bytes().unwrap();
        assert!(headroom > 0 && headroom <= total, "{headroom} of {total}");
    }

    #[test]
    fn fields_are_read_in_kib() {
        let status = "Name:\theapsight\nRssAnon:\t  123456 kB\nRssFile:\t 10 kB\n";
        assert_eq!(
            super::linux::kib_field(status, "RssAnon:"),
            Some(123456 * 1024)
        );
        assert_eq!(super::linux::kib_field(status, "VmSwap:"), None);
    }
}
