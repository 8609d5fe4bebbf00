//! The heap dumps of one file: the old hprof agent appends one per request, and one of them
//! is read.

/// One heap dump of a file that may hold several (the old hprof agent appends one per
/// request): its HEAP DUMP record, or its segments up to a HEAP DUMP END.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DumpPart {
    /// 1-based, in file order.
    pub number: usize,
    /// Microseconds after the file header's timestamp (the first record's time field).
    pub time_us: u32,
    /// File offset of its first heap-dump record.
    pub offset: u64,
    /// Object sub-records (instances, arrays, class dumps).
    pub objects: usize,
}

/// The heap dumps of a file and the one read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DumpList {
    pub parts: Vec<DumpPart>,
    /// Index in `parts` of the dump read.
    pub selected: usize,
}

impl DumpList {
    /// The dump read, if the file has any.
    pub fn current(&self) -> Option<&DumpPart> {
        self.parts.get(self.selected)
    }

    /// The warning a file with several dumps gets: which one is read and how to pick another.
    pub fn warning(&self) -> Option<String> {
        if self.parts.len() < 2 {
            return None;
        }
        let list: Vec<String> = self
            .parts
            .iter()
            .map(|p| {
                format!(
                    "#{} at +{:.3} s ({} objects)",
                    p.number,
                    p.time_us as f64 / 1e6,
                    p.objects
                )
            })
            .collect();
        let current = self.current()?;
        Some(format!(
            "this file holds {} heap dumps (the hprof agent appends one per request): {}; \
             analysing #{}{}, not a merge of them; open another with --dump N",
            self.parts.len(),
            list.join(", "),
            current.number,
            if self.selected + 1 == self.parts.len() {
                " (the last)"
            } else {
                ""
            }
        ))
    }
}
