//! The class-name filter of the histogram and of the loading screen's class list: a
//! case-insensitive regular expression, or plain text when it is not one.

pub struct NameFilter {
    regex: Option<regex::Regex>,
    needle: String,
    /// Why the text is matched as text, if it is.
    pub error: Option<String>,
}

impl NameFilter {
    pub fn new(text: &str) -> NameFilter {
        let (regex, error) = match regex::RegexBuilder::new(text)
            .case_insensitive(true)
            .build()
        {
            Ok(re) => (Some(re), None),
            Err(_) => (
                None,
                Some("not a regular expression: matching as text".to_string()),
            ),
        };
        NameFilter {
            regex,
            needle: text.to_lowercase(),
            error,
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        match &self.regex {
            Some(re) => re.is_match(name),
            None => name.to_lowercase().contains(&self.needle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NameFilter;

    #[test]
    fn regex_or_text() {
        let f = NameFilter::new("hashmap\\$node$");
        assert!(f.error.is_none());
        assert!(f.matches("java.util.HashMap$Node"));
        assert!(!f.matches("java.util.HashMap$Node[]"));
        let f = NameFilter::new("Node[");
        assert!(f.error.is_some());
        assert!(f.matches("java.util.HashMap$Node[]"));
        assert!(!f.matches("java.util.HashMap$Node"));
    }
}
