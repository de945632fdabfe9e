//! The settings chosen by name from a fixed list (`"wake_to": "head"`, `"signal": "SIGKILL"`).
//!
//! serde's derive reads them with serde_json's enum reader, whose errors say nothing a
//! scenario's author can use: a number gives `expected value`, a wrong name `unknown variant`.
//! Here each is read as a string and looked up in its list, so that every error says which
//! names are accepted (`expected one of "tail", "head", found "middle"`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::{ExitPolicy, ReadyGroup, SignalName, SliceAfterBlock, WakeTo};

/// A setting with a fixed list of names, each for one value.
pub(crate) trait Choice: Copy + 'static {
    /// Every name a file may write, with the value it stands for, in the order errors list them.
    const NAMES: &'static [(&'static str, Self)];
}

/// `one of "a", "b"` (or `"a"` when there is one), for an error's `expected …`.
fn accepted<T: Choice>() -> String {
    let names: Vec<String> = T::NAMES.iter().map(|(n, _)| format!("{n:?}")).collect();
    match names.as_slice() {
        [one] => one.clone(),
        _ => format!("one of {}", names.join(", ")),
    }
}

struct ByName<T>(PhantomData<T>);

impl<T: Choice> Visitor<'_> for ByName<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&accepted::<T>())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        T::NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|&(_, v)| v)
            .ok_or_else(|| E::custom(format!("expected {}, found {s:?}", accepted::<T>())))
    }
}

/// Reads a [`Choice`] by its name; anything else is an error listing the names.
fn by_name<'de, D: Deserializer<'de>, T: Choice>(d: D) -> Result<T, D::Error> {
    d.deserialize_str(ByName(PhantomData))
}

macro_rules! choice {
    ($ty:ty { $($name:literal => $value:expr),+ $(,)? }) => {
        impl Choice for $ty {
            const NAMES: &'static [(&'static str, Self)] = &[$(($name, $value)),+];
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                by_name(d)
            }
        }
    };
}

choice!(ReadyGroup { "wake" => ReadyGroup::Wake, "admit" => ReadyGroup::Admit, "preempt" => ReadyGroup::Preempt });
choice!(WakeTo { "tail" => WakeTo::Tail, "head" => WakeTo::Head });
choice!(SliceAfterBlock { "fresh" => SliceAfterBlock::Fresh, "keep" => SliceAfterBlock::Keep });
choice!(ExitPolicy { "multiprocessing" => ExitPolicy::Multiprocessing, "posix" => ExitPolicy::Posix });
choice!(SignalName { "SIGKILL" => SignalName::Kill, "SIGTERM" => SignalName::Term });

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    /// Every value is listed once, and under the name the file format (the JSON Schema, from
    /// the serde attributes) gives it.
    fn names_match_the_schema<T: Choice + PartialEq + fmt::Debug + schemars::JsonSchema>() {
        let schema = schemars::schema_for!(T).to_value();
        let mut from_schema: Vec<Json> = match schema.get("enum") {
            Some(Json::Array(list)) => list.clone(),
            _ => schema["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|v| match v.get("enum") {
                    Some(Json::Array(l)) => l.clone(),
                    _ => vec![v["const"].clone()],
                })
                .collect(),
        };
        let mut ours: Vec<Json> = T::NAMES.iter().map(|(n, _)| json!(n)).collect();
        from_schema.sort_by_key(|v| v.to_string());
        ours.sort_by_key(|v| v.to_string());
        assert_eq!(ours, from_schema, "{}", std::any::type_name::<T>());
        for (i, (_, a)) in T::NAMES.iter().enumerate() {
            for (_, b) in &T::NAMES[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn every_choice_is_named_as_the_schema_says() {
        names_match_the_schema::<ReadyGroup>();
        names_match_the_schema::<WakeTo>();
        names_match_the_schema::<SliceAfterBlock>();
        names_match_the_schema::<ExitPolicy>();
        names_match_the_schema::<SignalName>();
    }

    #[test]
    fn errors_list_the_names() {
        let e = serde_json::from_str::<WakeTo>(r#""middle""#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(r#"expected one of "tail", "head", found "middle""#),
            "{e}"
        );
        let e = serde_json::from_str::<ExitPolicy>("3").unwrap_err();
        assert!(
            e.to_string().starts_with(
                r#"invalid type: integer `3`, expected one of "multiprocessing", "posix""#
            ),
            "{e}"
        );
        assert_eq!(
            serde_json::from_str::<ReadyGroup>(r#""preempt""#).unwrap(),
            ReadyGroup::Preempt
        );
    }
}
