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

    /// The kind's name in signatures, as the table of argument kinds in
    /// docs/language.md ("Steps") names it.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Field => "field",
            Ty::FieldList | Ty::FieldOrList => "list of fields",
            Ty::Const => "constant",
            Ty::ConstList => "list of constants",
            Ty::Regex => "regex",
            Ty::RegexList => "list of regexes",
            Ty::Networks => "networks",
            Ty::Template => "template",
            Ty::Str => "string",
            Ty::Seconds => "seconds",
            Ty::Count => "count",
            Ty::Bool => "boolean",
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
    /// The reference text, in Markdown, that `pyrusec builtins --markdown`
    /// prints after the signature and the operator form, for the
    /// "Builtins" section of docs/language.md. It continues their sentence
    /// after a dash, so it starts in lower case.
    pub doc: &'static str,
    /// The `.pyr` comparison operator written for this builtin
    /// (`field == value` is `equals`), if any.
    pub operator: Option<&'static str>,
    /// How the step is written with an operator, for the reference
    /// (`F =~ /re/ save [a, b]` is `pcre`), if it can be.
    pub form: Option<&'static str>,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An operator form is a filter's, written with its operator if it
    /// has one.
    #[test]
    fn operator_forms_use_the_operator() {
        for b in BUILTINS {
            if let Some(op) = b.operator {
                let form = b.form.unwrap_or_else(|| panic!("{} has no form", b.name));
                assert!(form.starts_with(&format!("F {op} ")), "{}: {form}", b.name);
            }
            if let Some(form) = b.form {
                assert_eq!(b.kind, Kind::Filter, "{}", b.name);
                assert!(form.starts_with("F "), "{}: {form}", b.name);
            }
        }
    }

    /// The reference text starts in lower case (it follows a dash), ends a
    /// sentence or a code block, and names every optional parameter.
    #[test]
    fn reference_texts_are_complete() {
        for b in BUILTINS {
            let doc = b.doc.trim();
            assert!(
                doc.starts_with(|c: char| c.is_lowercase() || c == '`'),
                "{}",
                b.name
            );
            assert!(doc.ends_with(['.', '`']), "{}", b.name);
            for p in b.params.iter().filter(|p| !p.required) {
                assert!(
                    doc.contains(&format!("`{}", p.name)),
                    "{}: {}",
                    b.name,
                    p.name
                );
            }
        }
    }

    /// The defaults the reference states are those the code applies.
    #[test]
    fn reference_texts_state_the_defaults() {
        let doc = |name: &str| {
            let b = lookup(name).expect("a builtin");
            b.doc.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert!(doc("email").contains(&format!("`{}`", email::DEFAULT_SUBJECT)));
        for level in log::LEVELS {
            assert!(doc("log").contains(&format!("`{level}`")), "{level}");
        }
        for mode in daily_report::DETAILS {
            assert!(doc("dailyReport").contains(&format!("`{mode}`")), "{mode}");
        }
        let failure = doc("failure");
        let max = failure::DEFAULT_MAX_FAILURES;
        assert!(failure.contains(&format!("`maxFailures` (a count, default {max})")));
        assert_eq!(failure::DEFAULT_FIND_TIME, 10 * 60);
        assert!(failure.contains("`findTime` (seconds, default 10 minutes)"));
        assert_eq!(failure::DEFAULT_BAN_TIME, 60 * 60);
        assert!(failure.contains("`banTime` (seconds, default 1 hour)"));
        for set in [failure::DEFAULT_SET_IPV4, failure::DEFAULT_SET_IPV6] {
            assert!(failure.contains(&format!("`\"{set}\"`")), "{set}");
        }
        assert_eq!(remember::DEFAULT_KEEP_SECONDS, 10 * 60);
        assert!(doc("remember").contains("`keepSeconds` (default 10 minutes)"));
    }
}
