//! The file header: "JAVA PROFILE 1.0.x\0", identifier size, timestamp.

use super::cursor::Cursor;
use super::error::{HprofError, Result};

/// Which HPROF dialect the header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FormatVersion {
    V101,
    V102,
    /// Android's dialect (before `hprof-conv`).
    V103Android,
}

impl FormatVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            FormatVersion::V101 => "JAVA PROFILE 1.0.1",
            FormatVersion::V102 => "JAVA PROFILE 1.0.2",
            FormatVersion::V103Android => "JAVA PROFILE 1.0.3",
        }
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Header {
    pub version: FormatVersion,
    pub id_size: usize,
    pub timestamp_ms: u64,
    /// Offset of the first top-level record.
    pub records_start: usize,
}

const MAGIC_PREFIX: &[u8] = b"JAVA PROFILE 1.0.";

pub fn parse_header(data: &[u8]) -> Result<Header> {
    if data.is_empty() {
        return Err(HprofError::Empty);
    }
    let version = match data.get(..MAGIC_PREFIX.len() + 2) {
        Some(h) if h.starts_with(MAGIC_PREFIX) && h[MAGIC_PREFIX.len() + 1] == 0 => {
            match h[MAGIC_PREFIX.len()] {
                b'1' => FormatVersion::V101,
                b'2' => FormatVersion::V102,
                b'3' => FormatVersion::V103Android,
                _ => return Err(not_hprof(data)),
            }
        }
        _ if MAGIC_PREFIX.starts_with(&data[..data.len().min(MAGIC_PREFIX.len())])
            && data.len() < MAGIC_PREFIX.len() + 2 =>
        {
            return Err(HprofError::TruncatedHeader {
                offset: data.len() as u64,
                expected: "the rest of \"JAVA PROFILE 1.0.x\\0\"",
            })
        }
        _ => return Err(not_hprof(data)),
    };
    let mut c = Cursor::new(data, 0, 4);
    c.skip(MAGIC_PREFIX.len() + 2)
        .map_err(|_| not_hprof(data))?;
    let size_at = c.offset();
    let id_size = c.u4().map_err(|e| HprofError::TruncatedHeader {
        offset: e.offset + e.available,
        expected: "a u4 identifier size after the format name",
    })?;
    if id_size != 4 && id_size != 8 {
        return Err(HprofError::BadIdSize {
            size: id_size,
            offset: size_at,
        });
    }
    let timestamp_ms = c.u8().map_err(|e| HprofError::TruncatedHeader {
        offset: e.offset + e.available,
        expected: "a u8 timestamp after the identifier size",
    })?;
    Ok(Header {
        version,
        id_size: id_size as usize,
        timestamp_ms,
        records_start: c.position(),
    })
}

fn not_hprof(data: &[u8]) -> HprofError {
    let head = &data[..data.len().min(16)];
    let found = if head.starts_with(b"\x89PNG") {
        "a PNG image".to_string()
    } else if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("\"{}\"", String::from_utf8_lossy(head))
    } else {
        let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    };
    HprofError::NotHprof { found }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: &str, id: u32) -> Vec<u8> {
        let mut v = version.as_bytes().to_vec();
        v.push(0);
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&1_700_000_000_000u64.to_be_bytes());
        v
    }

    #[test]
    fn reads_all_versions() {
        for (s, ver) in [
            ("JAVA PROFILE 1.0.1", FormatVersion::V101),
            ("JAVA PROFILE 1.0.2", FormatVersion::V102),
            ("JAVA PROFILE 1.0.3", FormatVersion::V103Android),
        ] {
            let h = parse_header(&header(s, 4)).unwrap();
            assert_eq!(h.version, ver);
            assert_eq!(h.id_size, 4);
            assert_eq!(h.timestamp_ms, 1_700_000_000_000);
            assert_eq!(h.records_start, 31);
        }
    }

    #[test]
    fn rejects_bad_input_with_offsets() {
        assert!(matches!(parse_header(b""), Err(HprofError::Empty)));
        let png = b"\x89PNG\r\n\x1a\n0000000000000000000000";
        let e = parse_header(png).unwrap_err().to_string();
        assert!(e.contains("PNG"), "{e}");
        let e = parse_header(&header("JAVA PROFILE 1.0.2", 3)).unwrap_err();
        assert!(matches!(
            e,
            HprofError::BadIdSize {
                size: 3,
                offset: 19
            }
        ));
        let full = header("JAVA PROFILE 1.0.2", 8);
        for cut in 1..full.len() {
            assert!(parse_header(&full[..cut]).is_err(), "cut at {cut}");
        }
    }
}
