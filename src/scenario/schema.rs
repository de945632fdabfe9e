//! The JSON Schema of scenario files (`procsim schema`), for editors to complete and check them.
//!
//! Most of it is derived (schemars) from the same serde types that read the files, so the two
//! cannot drift apart. The types whose `Deserialize` is written by hand (instructions,
//! expressions, values, maps that refuse duplicate keys) get their schema written by hand here,
//! to say exactly what their visitors accept: an instruction is an object with exactly one of
//! the known keys. What a schema cannot say (references to programs, handles and globals,
//! duplicate keys, the ranges of `uniform`) is still checked by `procsim validate`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value as Json, json};

use super::{Assign, Expr, Instr, Join, NewObject, Repeat, Scenario, Spawn, UniqueMap, Wait};
use crate::model::Value;
use crate::report::{PROCESS_FIELDS, SUMMARY_FIELDS};

/// The JSON Schema (draft 2020-12) of a scenario file.
///
/// ```
/// let schema = procsim::scenario::json_schema();
/// assert_eq!(schema["title"], "procsim scenario");
/// assert!(schema["required"].as_array().unwrap().contains(&"programs".into()));
/// ```
pub fn json_schema() -> Json {
    let schema = schemars::schema_for!(Scenario);
    let mut v = schema.to_value();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("title".into(), json!("procsim scenario"));
        obj.insert(
            "description".into(),
            json!("A procsim scenario: programs, the processes that run them, the kernel's settings and what a run must show. Reference checks (unknown programs, handles, globals) are made by `procsim validate`."),
        );
    }
    v
}

impl JsonSchema for Value {
    fn schema_name() -> Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<Value>();
        json_schema!({
            "description": "A value: an integer, a string, a boolean, null, or a list of these (no floating point numbers, no objects).",
            "anyOf": [
                {"type": "integer"},
                {"type": "string"},
                {"type": "boolean"},
                {"type": "null"},
                {"type": "array", "items": item}
            ]
        })
    }
}

impl JsonSchema for Expr {
    fn schema_name() -> Cow<'static, str> {
        "Expr".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<Value>();
        json_schema!({
            "description": "An expression: a literal, \"$name\" (a parameter or global; \"$$\" starts a literal \"$\"), or {\"uniform\": [lo, hi]}, a seeded random integer from lo to hi included.",
            "anyOf": [
                {"type": "integer"},
                {"type": "string"},
                {"type": "boolean"},
                {"type": "null"},
                {"type": "array", "items": value},
                {
                    "type": "object",
                    "properties": {
                        "uniform": {
                            "description": "[lo, hi], both included, lo ≤ hi.",
                            "type": "array",
                            "items": {"type": "integer"},
                            "minItems": 2,
                            "maxItems": 2
                        }
                    },
                    "required": ["uniform"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl JsonSchema for Instr {
    fn schema_name() -> Cow<'static, str> {
        "Instr".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let expr = generator.subschema_for::<Expr>().to_value();
        let handle = json!({"type": "string", "description": "A handle made by spawn, fork, thread or wait (or \"self\")."});
        let text = json!({"type": "string"});
        let spawn = generator.subschema_for::<Spawn>().to_value();
        let assign = generator.subschema_for::<Assign>().to_value();
        let payloads: [(&str, Json, &str); 23] = [
            ("cpu", expr.clone(), "Compute for E ticks."),
            (
                "io",
                expr.clone(),
                "Block on I/O for E ticks (0 does not block).",
            ),
            (
                "sleep",
                expr.clone(),
                "Sleep for E ticks (0 does not block).",
            ),
            (
                "repeat",
                generator.subschema_for::<Repeat>().to_value(),
                "Run a body E times.",
            ),
            ("spawn", spawn.clone(), "Create a child process in `new`."),
            (
                "start",
                handle.clone(),
                "Admit a child made by spawn (new → ready).",
            ),
            ("fork", spawn.clone(), "spawn, then start."),
            (
                "thread",
                spawn,
                "threading.Thread(target=program, ...).start(): a new thread of this process, sharing its globals and objects; `as` (optional) names a handle local to the creating thread.",
            ),
            (
                "acquire",
                text.clone(),
                "Acquire the process's threading.Lock of this name (it exists from its first use): block (cause `lock`) while another thread holds it.",
            ),
            (
                "release",
                text.clone(),
                "Release the lock of this name, handing it to its first waiter (`lock-acquired`); releasing an unlocked lock is Python's RuntimeError.",
            ),
            (
                "join",
                generator.subschema_for::<Join>().to_value(),
                "Block until the child has terminated, then reap it; with a timeout, block at most that many ticks (cause `timeout`) and leave the child alive.",
            ),
            (
                "wait",
                generator.subschema_for::<Wait>().to_value(),
                "Block until any child has terminated, then reap it.",
            ),
            ("kill", handle.clone(), "Send SIGKILL to a child."),
            ("terminate", handle.clone(), "Send SIGTERM to a child."),
            (
                "set",
                assign.clone(),
                "Set this process's copy of a global.",
            ),
            (
                "add",
                assign.clone(),
                "Add to this process's copy of a global.",
            ),
            (
                "append",
                assign,
                "Append to this process's copy of a list global.",
            ),
            (
                "print",
                json!({"type": "string", "description": "A line of output; {name}, {pid}, {ppid}, {tick}, parameters, globals, repeat counts and {thread} (the current thread's name), {h.pid}, {h.name}, {h.exitcode}, {h.alive}, {h.daemon} of a handle h are replaced."}),
                "Print a line.",
            ),
            (
                "new",
                generator.subschema_for::<NewObject>().to_value(),
                "Hold a new object whose finalizer prints when this process drops it.",
            ),
            ("drop", handle, "Release an object."),
            (
                "exit",
                expr.clone(),
                "sys.exit(E): an int is the exit code, true/false 1/0, null 0, anything else is printed and gives 1; finalizers and the exit policy run.",
            ),
            (
                "_exit",
                expr,
                "os._exit(E): end at once with exit code E, no finalizer, no exit policy.",
            ),
            (
                "fail",
                text,
                "End as an uncaught error: the message on the error output, exit code 1.",
            ),
        ];
        let branches: Vec<Json> = payloads
            .into_iter()
            .map(|(key, payload, what)| {
                let mut props = Map::new();
                props.insert(key.to_owned(), payload);
                json!({
                    "description": what,
                    "type": "object",
                    "properties": props,
                    "required": [key],
                    "additionalProperties": false
                })
            })
            .collect();
        json_schema!({
            "description": "An instruction: an object with exactly one of the known keys.",
            "oneOf": branches
        })
    }
}

impl<V: JsonSchema> JsonSchema for UniqueMap<V> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let v = generator.subschema_for::<V>();
        json_schema!({
            "description": "An object; a key may appear only once.",
            "type": "object",
            "additionalProperties": v
        })
    }
}

/// `expect.sim.summary`: the summary's fields and the values they must have.
pub(super) fn summary_fields(_: &mut SchemaGenerator) -> Schema {
    let props: Map<String, Json> = SUMMARY_FIELDS
        .iter()
        .map(|f| ((*f).to_owned(), super::expect::field_schema(f)))
        .collect();
    json_schema!({
        "description": "Summary fields and their values (floats within a relative 1e-9).",
        "type": "object",
        "properties": props,
        "additionalProperties": false
    })
}

/// `expect.sim.processes`: per process name, report fields and their values.
pub(super) fn process_fields(_: &mut SchemaGenerator) -> Schema {
    let props: Map<String, Json> = PROCESS_FIELDS
        .iter()
        .map(|f| ((*f).to_owned(), super::expect::field_schema(f)))
        .collect();
    json_schema!({
        "description": "Per process, by name: report fields and their values.",
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": props,
            "additionalProperties": false
        }
    })
}

/// `expect.processes.*.exitcode`.
pub(super) fn exitcode(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "0, the exit code, 1 for an error, -N for signal N; null for a process that never ended.",
        "type": ["integer", "null"]
    })
}

/// `expect.processes.*.signal`.
pub(super) fn signal(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The signal that ended the process, or null.",
        "enum": ["SIGKILL", "SIGTERM", null]
    })
}
