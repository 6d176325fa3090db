//! Stage 1 (legacy): any text given as a `pyruse.json` loads or yields
//! diagnostics, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pyruse::syntax::load_str("fuzz.json", text);
    }
});
