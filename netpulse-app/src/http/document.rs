//! The OpenAPI document as served: poem-openapi's, with what its derive cannot say added by one
//! pass over the JSON, so that every route, present and future, gets it without annotations:
//!
//! - in a schema that an answer uses, a property that is not required is **nullable**:
//!   poem-openapi writes an `Option` field that is `None` as `null` (no DTO skips it);
//! - a path parameter named `…_id` is a **UUID** (`format: uuid`); the handler still parses it
//!   and answers 400 naming it when it is malformed.
//!
//! - a schema that a request body uses has `additionalProperties: false`: the server refuses
//!   unknown keys ([`super::declared`]).
//! - an unsigned integer (`format: uint32`, `uint64`, …) has `minimum: 0` (and the maximum of
//!   its width below 64 bits), which its format alone does not say to a JSON Schema validator.
//!
//! Nullability in request bodies is left as the DTOs declare it: a key is nullable there only
//! where `#[oai(nullable)]` says that `null` means something, and [`super::payload::JsonBody`]
//! refuses `null` for every other key. A schema used both ways must therefore annotate its
//! optional keys, so that the nullable rule changes nothing in it (a test checks that).

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// The document the server serves (and `openapi/openapi.json` holds), from poem-openapi's.
pub fn truthful(raw: &str) -> String {
    let mut doc: Value = serde_json::from_str(raw).expect("poem-openapi writes JSON");
    let answered = reached_schemas(&doc, "responses");
    let requested = reached_schemas(&doc, "requestBody");
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if answered.contains(name) {
                nullable_optionals(schema);
            }
            if requested.contains(name) {
                closed(schema);
            }
        }
    }
    for operation in operations_mut(&mut doc) {
        if let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        {
            parameters.iter_mut().for_each(uuid_path_id);
        }
        if let Some(responses) = operation.get_mut("responses") {
            for schema in content_schemas_mut(responses) {
                nullable_optionals(schema);
            }
        }
    }
    unsigned_bounds(&mut doc);
    serde_json::to_string_pretty(&doc).expect("a JSON value serializes")
}

/// `minimum: 0` (and the width's maximum) on every `uintN` integer schema of the document.
fn unsigned_bounds(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let width = map
                .get("format")
                .and_then(Value::as_str)
                .and_then(|f| f.strip_prefix("uint"))
                .and_then(|bits| bits.parse::<u32>().ok());
            if let Some(bits) = width
                && map.get("type").and_then(Value::as_str) == Some("integer")
            {
                map.entry("minimum").or_insert(json!(0));
                if bits < 64 {
                    map.entry("maximum").or_insert(json!((1_u64 << bits) - 1));
                }
            }
            map.values_mut().for_each(unsigned_bounds);
        }
        Value::Array(items) => items.iter_mut().for_each(unsigned_bounds),
        _ => {}
    }
}

/// The operations of the document (`paths.*.*`).
fn operations_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

/// The schemas of `responses.*.content.*`.
fn content_schemas_mut(responses: &mut Value) -> impl Iterator<Item = &mut Value> {
    responses
        .as_object_mut()
        .into_iter()
        .flat_map(|r| r.values_mut())
        .filter_map(|r| r.get_mut("content").and_then(Value::as_object_mut))
        .flat_map(|c| c.values_mut())
        .filter_map(|media| media.get_mut("schema"))
}

/// `additionalProperties: false` on an object schema with properties that says nothing else.
fn closed(schema: &mut Value) {
    if let Some(map) = schema.as_object_mut()
        && map.contains_key("properties")
        && !map.contains_key("additionalProperties")
    {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
}

/// Names of the component schemas that `part` (`responses` or `requestBody`) of an operation
/// uses, directly or through other schemas.
fn reached_schemas(doc: &Value, part: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for item in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
        .filter_map(Value::as_object)
    {
        for operation in item.values() {
            if let Some(used) = operation.get(part) {
                references(used, &mut names);
            }
        }
    }
    let schemas = doc.pointer("/components/schemas");
    loop {
        let mut more = BTreeSet::new();
        for name in &names {
            if let Some(schema) = schemas.and_then(|s| s.get(name)) {
                references(schema, &mut more);
            }
        }
        let before = names.len();
        names.extend(more);
        if names.len() == before {
            return names;
        }
    }
}

/// Collects the component names `value` refers to (`#/components/schemas/<name>`).
fn references(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/components/schemas/") {
                            into.insert(name.to_owned());
                        }
                    }
                    _ => references(v, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, into)),
        _ => {}
    }
}

/// Marks every property that is not required nullable, in `schema` and the schemas inlined in
/// it (referenced ones are handled as components).
fn nullable_optionals(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let required: BTreeSet<String> = map
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            if !required.contains(name) {
                make_nullable(property);
            }
            nullable_optionals(property);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(key) {
            nullable_optionals(inner);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(members)) = map.get_mut(key) {
            members.iter_mut().for_each(nullable_optionals);
        }
    }
}

/// `nullable: true` on `property`; a bare `$ref` (whose siblings OpenAPI 3.0 ignores) is wrapped
/// in `allOf` first.
fn make_nullable(property: &mut Value) {
    let Some(map) = property.as_object_mut() else {
        return;
    };
    if let Some(reference) = map.remove("$ref") {
        let rest = std::mem::take(map);
        *property = json!({ "allOf": [{ "$ref": reference }] });
        if let Some(wrapped) = property.as_object_mut() {
            wrapped.extend(rest);
            wrapped.insert("nullable".into(), Value::Bool(true));
        }
        return;
    }
    map.insert("nullable".into(), Value::Bool(true));
}

/// `format: uuid` on a path parameter named `…_id` (every id of NetPulse is a UUID).
fn uuid_path_id(parameter: &mut Value) {
    let is_path_id = parameter.get("in").and_then(Value::as_str) == Some("path")
        && parameter
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.ends_with("_id"));
    if !is_path_id {
        return;
    }
    if let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut)
        && schema.get("type").and_then(Value::as_str) == Some("string")
    {
        schema.insert("format".into(), Value::String("uuid".into()));
    }
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
