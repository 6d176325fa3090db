// STUB: replaced by the real translator.
pub enum Engine {
    Regex,
    Fancy,
}
#[derive(Debug, Clone, PartialEq)]
pub struct PatternError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub help: String,
}
pub struct Matcher {
    re: regex::Regex,
}
impl Matcher {
    pub fn python(p: &str) -> Result<Matcher, PatternError> {
        Self::native(p)
    }
    pub fn native(p: &str) -> Result<Matcher, PatternError> {
        regex::Regex::new(p)
            .map(|re| Matcher { re })
            .map_err(|e| PatternError {
                start: 0,
                end: p.len(),
                message: e.to_string(),
                help: String::new(),
            })
    }
    pub fn describe(&self) -> String {
        format!("/{}/", self.re.as_str())
    }
    pub fn group_count(&self) -> usize {
        self.re.captures_len() - 1
    }
    pub fn group_names(&self) -> Vec<(usize, String)> {
        self.re
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, n.to_owned())))
            .collect()
    }
    pub fn search(
        &self,
        text: &str,
        out: &mut Vec<Option<(usize, usize)>>,
    ) -> Result<bool, String> {
        out.clear();
        match self.re.captures(text) {
            None => Ok(false),
            Some(c) => {
                for i in 0..c.len() {
                    out.push(c.get(i).map(|m| (m.start(), m.end())));
                }
                Ok(true)
            }
        }
    }
}
