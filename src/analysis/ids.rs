//! Object ids as users type them, one rule for the command line and the window.
//!
//! `0x7f3a12c0` and `#7f3a12c0` are hexadecimal; a bare number is hexadecimal when it holds a
//! letter `a`–`f` (`7f3a12c0`) and decimal otherwise (`1234`), as ids are printed in hex but
//! some tools (jhat, old MAT exports) print them in decimal. `_` and `'` separators are
//! ignored.

/// Why text is not an object id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an object id (expected hex like 0x7f0012345678, or a decimal number)")]
pub struct BadObjectId {
    pub text: String,
}

/// Parses an object id (an address as the dump records it); see the module for the rule.
pub fn parse_object_id(text: &str) -> Result<u64, BadObjectId> {
    let bad = || BadObjectId {
        text: text.to_string(),
    };
    let t = text.trim();
    let (digits, hex) = match t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .or_else(|| t.strip_prefix('#'))
    {
        Some(rest) => (rest, true),
        None => (t, t.chars().any(|c| c.is_ascii_alphabetic())),
    };
    let digits: String = digits.chars().filter(|c| *c != '_' && *c != '\'').collect();
    if digits.is_empty() {
        return Err(bad());
    }
    let parsed = if hex {
        u64::from_str_radix(&digits, 16)
    } else {
        digits.parse()
    };
    parsed.map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_prefix_or_letters_decimal_otherwise() {
        assert_eq!(parse_object_id("0x7f3a"), Ok(0x7f3a));
        assert_eq!(parse_object_id("0X7F3A"), Ok(0x7f3a));
        assert_eq!(parse_object_id("#ff"), Ok(0xff));
        assert_eq!(parse_object_id(" 7F3A "), Ok(0x7f3a));
        assert_eq!(parse_object_id("1234"), Ok(1234));
        assert_eq!(parse_object_id("0x7f_3a"), Ok(0x7f3a));
        assert!(parse_object_id("0x").is_err());
        assert!(parse_object_id("zz").is_err());
        assert!(parse_object_id("").is_err());
    }
}
