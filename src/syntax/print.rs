// STUB
pub fn print(_r: &super::ast::RuleSet) -> String {
    String::new()
}
