//! Stage 1: any text given as a `.pyr` file parses or yields diagnostics,
//! never a panic; what parses prints back to text that parses again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (rules, diags) = pyruse::syntax::load_str("fuzz.pyr", text);
        if !diags.iter().any(|d| d.is_error()) {
            let printed = pyruse::print::print(&rules);
            let (_, again) = pyruse::syntax::load_str("printed.pyr", &printed);
            assert!(
                !again.iter().any(|d| d.is_error()),
                "printed rules do not parse:\n{printed}"
            );
        }
    }
});
