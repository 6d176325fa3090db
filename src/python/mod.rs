//! Python compatibility: what the engine reproduces of Python 3.11 so that
//! a legacy `pyruse.json` gives exactly the results Python Pyruse gave.
//!
//! Python Pyruse ran its rules in CPython 3.11: messages were rendered with
//! `str.format_map(entry)`, filters matched with the `re` module, and the
//! values of the journal were Python objects (`int`, `str`, `bytes`,
//! `datetime`, `UUID`, …). A user who moves a `pyruse.json` to this engine
//! keeps every message byte for byte, and every regex keeps its meaning;
//! what cannot be given Python's exact meaning is refused when the rules
//! load, never run with another meaning.
//!
//! - [`format`](mod@format): `str.format_map` — the replacement-field
//!   grammar, the format-spec mini-language, numbers,
//!   `str()`/`repr()`/`ascii()` of every value, and `datetime.__format__`
//!   (strftime).
//! - [`re`]: Python `re` patterns translated for the Rust `regex` and
//!   `fancy-regex` engines, with Python's groups, errors and `re.search`.
//! - [`value`]: `==`, ordering and `hash` of values as Python has them.
//!
//! The layer depends only on [`crate::value::Value`] (the values it
//! renders) and on the regex engines; it knows nothing of the builtins, the
//! interpreter, the effects or the daemon.
//!
//! What comes from Python itself has its generator in `src/python/gen/`
//! (see its README): the Unicode tables of `format/unicode.rs`, and the
//! values "printed by Python" that the tests expect.

pub mod format;
pub mod re;
pub mod value;
