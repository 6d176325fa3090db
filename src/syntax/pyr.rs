// STUB
use super::ast::RuleSet;
use crate::diag::Diagnostic;
use crate::source::Span;
pub fn load_path(_p: &std::path::Path, _r: &mut RuleSet, _d: &mut Vec<Diagnostic>) {}
pub fn load_str(_n: &str, _t: &str, _r: &mut RuleSet, _d: &mut Vec<Diagnostic>) {}
pub fn string_source_offset(_text: &str, lit: Span, off: usize) -> usize {
    lit.start as usize + 1 + off
}
