//! Stages 2–3: rules that load are checked and compiled without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let name = if text.trim_start().starts_with('{') {
            "fuzz.json"
        } else {
            "fuzz.pyr"
        };
        let (rules, diags) = pyruse::syntax::load_str(name, text);
        if !diags.iter().any(|d| d.is_error()) {
            let _ = pyruse::compile::build(rules);
        }
    }
});
