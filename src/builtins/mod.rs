//! Builtins: the filters and actions a step can name.
//!
//! Each builtin is one file with a [`Builtin`] descriptor: its name (Pyruse's,
//! without the `filter_`/`action_` prefix), whether it is a filter or an
//! action, its parameters, and a `prepare` function that does all the
//! compile-time work (compile regexes, parse networks and templates, intern
//! fields) and returns the [`Step`] the VM calls on the hot path. The
//! checker validates arguments against the parameters before `prepare`
//! runs, so `prepare` only reads arguments of the right shape.

pub mod ban;
pub mod counter_raise;
pub mod counter_reset;
pub mod daily_report;
pub mod dnat_capture;
pub mod dnat_replace;
pub mod email;
pub mod equals;
pub mod failure;
pub mod in_networks;
pub mod in_values;
pub mod log;
pub mod noop;
pub mod order;
pub mod pcre;
pub mod pcre_any;
pub mod prep;
pub mod remember;
pub mod user_exists;

use crate::vm::RunError;
pub use crate::vm::Step;
pub use prep::Prep;

/// Filter or action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Filter,
    Action,
}

/// What an argument may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A field name: `.pyr` identifier, or a string.
    Field,
    /// A list of field names.
    FieldList,
    /// A field name, or a list of field names (Pyruse's `save`).
    FieldOrList,
    /// A constant to compare with: string, number, boolean or null.
    Const,
    /// A list of constants.
    ConstList,
    /// A regex: `.pyr` regex literal, or a string.
    Regex,
    /// A list of regexes.
    RegexList,
    /// A list of networks: `.pyr` network literals, or strings.
    Networks,
    /// A message template (string with `{field}`).
    Template,
    /// A plain string.
    Str,
    /// A number of seconds: integer or `.pyr` duration.
    Seconds,
    /// A whole number, at least 1.
    Count,
    /// `true` or `false`.
    Bool,
}

impl Ty {
    /// Words for messages: "expected {describe}".
    pub fn describe(self) -> &'static str {
        match self {
            Ty::Field => "a field name",
            Ty::FieldList => "a list of field names",
            Ty::FieldOrList => "a field name or a list of field names",
            Ty::Const => "a constant (string, number, true/false or null)",
            Ty::ConstList => "a list of constants",
            Ty::Regex => "a regex",
            Ty::RegexList => "a list of regexes",
            Ty::Networks => "a list of networks (like 10.0.0.0/8 or ::1)",
            Ty::Template => "a message string",
            Ty::Str => "a string",
            Ty::Seconds => "a number of seconds or a duration (like 90s, 10m, 5d)",
            Ty::Count => "a whole number, at least 1",
            Ty::Bool => "`true` or `false`",
        }
    }
}

/// One parameter of a builtin.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

pub const fn req(name: &'static str, ty: Ty) -> Param {
    Param {
        name,
        ty,
        required: true,
    }
}

pub const fn opt(name: &'static str, ty: Ty) -> Param {
    Param {
        name,
        ty,
        required: false,
    }
}

/// A builtin's descriptor.
pub struct Builtin {
    pub name: &'static str,
    pub kind: Kind,
    pub params: &'static [Param],
    pub summary: &'static str,
    /// The `.pyr` comparison operator written for this builtin
    /// (`field == value` is `equals`), if any.
    pub operator: Option<&'static str>,
    pub prepare: fn(&mut Prep) -> Option<Box<dyn Step>>,
}

/// Every builtin, in documentation order.
pub static BUILTINS: &[&Builtin] = &[
    &equals::BUILTIN,
    &in_values::BUILTIN,
    &order::LOWER_OR_EQUALS,
    &order::GREATER_OR_EQUALS,
    &in_networks::BUILTIN,
    &pcre::BUILTIN,
    &pcre_any::BUILTIN,
    &user_exists::BUILTIN,
    &noop::BUILTIN,
    &log::BUILTIN,
    &email::BUILTIN,
    &daily_report::BUILTIN,
    &counter_raise::BUILTIN,
    &counter_reset::BUILTIN,
    &failure::BUILTIN,
    &ban::NFT,
    &ban::IPSET,
    &dnat_capture::BUILTIN,
    &dnat_replace::BUILTIN,
    &remember::REMEMBER,
    &remember::RECALL,
];

pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().copied().find(|b| b.name == name)
}

/// The Python type error message for a value that must be text.
pub fn not_text(what: &str, v: &crate::value::Value) -> RunError {
    RunError::step(format!("{what} must be a string, not {}", v.type_name()))
}
