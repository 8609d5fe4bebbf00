//! The census (`report --histogram-only`) must report exactly what the index's histogram
//! report says.
// Each test crate includes every helper module and uses some.
#![allow(dead_code)]

use heapsight::heap::{Census, HeapIndex};
use heapsight::report::{build_report, census_report, ReportOptions};

pub fn assert_census_matches(census: &Census, index: &HeapIndex) {
    let options = ReportOptions { top: None };
    let mut counted = serde_json::to_value(census_report(census, options)).expect("census report");
    let mut indexed = serde_json::to_value(build_report(index, None, options)).expect("report");
    // Only numbering every object finds duplicated identifiers.
    if let Some(w) = indexed["warnings"].as_array_mut() {
        w.retain(|w| !w.as_str().unwrap_or("").contains("occur more than once"));
    }
    // Only the index reads objects, so only it knows the dump's java.version: the census
    // says the generation from the class shapes (the same one unless the two disagree).
    for v in [&mut counted, &mut indexed] {
        if let Some(vm) = v["vm"].as_object_mut() {
            for key in ["reason", "java_version", "jdk_source", "disagreement"] {
                vm.remove(key);
            }
        }
    }
    assert_eq!(counted, indexed, "census and index disagree");
}
