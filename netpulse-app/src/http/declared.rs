//! A request body holds only the keys its schema declares, and `null` only for a key declared
//! nullable (`#[oai(nullable)]` on the DTO field, where `null` means something: disable a cap,
//! clear a setting, follow the rotation). Anything else is refused with 400 naming the key: an
//! unknown key is not silently ignored, a `null` is not read as "omitted". The rule reads the
//! same schema the document is made from (which says `additionalProperties: false` for request
//! bodies, see [`super::document`]), so the two cannot disagree.

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde_json::Value;

use crate::error::AppError;

/// Refuses, at any depth of declared properties of `body`, a key `T`'s schema does not declare
/// and a `null` where it does not declare the property nullable.
pub fn refuse_undeclared<T: Type>(body: &Value) -> Result<(), AppError> {
    let mut registry = Registry::new();
    T::register(&mut registry);
    check(&registry, &T::schema_ref(), body, "")
}

fn resolve<'r>(registry: &'r Registry, schema: &'r MetaSchemaRef) -> Option<&'r MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(s) if s.properties.is_empty() && !s.all_of.is_empty() => {
            // `allOf: [$ref, {description…}]`, as poem-openapi writes an annotated reference.
            s.all_of.iter().find_map(|member| match member {
                MetaSchemaRef::Reference(_) => resolve(registry, member),
                MetaSchemaRef::Inline(_) => None,
            })
        }
        MetaSchemaRef::Inline(s) => Some(s),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
    }
}

fn nullable(schema: &MetaSchemaRef) -> bool {
    match schema {
        MetaSchemaRef::Inline(s) => s.nullable,
        MetaSchemaRef::Reference(_) => false,
    }
}

fn check(
    registry: &Registry,
    schema: &MetaSchemaRef,
    value: &Value,
    path: &str,
) -> Result<(), AppError> {
    let (Some(schema), Value::Object(map)) = (resolve(registry, schema), value) else {
        return Ok(());
    };
    if !schema.properties.is_empty() && schema.additional_properties.is_none() {
        let known = |k: &str| schema.properties.iter().any(|(name, _)| *name == k);
        if let Some(key) = map.keys().find(|k| !known(k)) {
            let names: Vec<&str> = schema.properties.iter().map(|(name, _)| *name).collect();
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            return Err(AppError::invalid(
                field,
                format!("is not a known field (known: {})", names.join(", ")),
            ));
        }
    }
    for (name, property) in &schema.properties {
        let Some(v) = map.get(*name) else { continue };
        let field = if path.is_empty() {
            (*name).to_owned()
        } else {
            format!("{path}.{name}")
        };
        if v.is_null() {
            if !nullable(property) {
                return Err(AppError::invalid(
                    field,
                    "must not be null (omit the key to leave it unset or unchanged)",
                ));
            }
        } else {
            check(registry, property, v, &field)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use poem_openapi::Object;
    use serde_json::json;

    #[derive(Object)]
    #[oai(rename_all = "camelCase")]
    struct Inner {
        start: String,
        #[oai(nullable)]
        note: Option<String>,
    }

    #[derive(Object)]
    #[oai(rename_all = "camelCase")]
    struct Outer {
        enabled: Option<bool>,
        #[oai(nullable)]
        max_ping_ms: Option<f64>,
        /// Documented.
        #[oai(nullable)]
        window: Option<Inner>,
        plain: Option<Inner>,
    }

    fn field(body: &serde_json::Value) -> Option<String> {
        super::refuse_undeclared::<Outer>(body)
            .err()
            .map(|e| match e {
                crate::error::AppError::Invalid { field, .. } => field,
                other => panic!("{other:?}"),
            })
    }

    #[test]
    fn null_is_refused_where_it_is_not_declared() {
        assert_eq!(field(&json!({"enabled": null})).as_deref(), Some("enabled"));
        assert_eq!(field(&json!({"plain": null})).as_deref(), Some("plain"));
        assert_eq!(
            field(&json!({"plain": {"start": null}})).as_deref(),
            Some("plain.start")
        );
        assert_eq!(field(&json!({"window": {"start": "x", "note": 1}})), None);
    }

    #[test]
    fn unknown_keys_are_refused_at_any_depth() {
        assert_eq!(
            field(&json!({"enabled": true, "x": 1})).as_deref(),
            Some("x")
        );
        assert_eq!(
            field(&json!({"plain": {"start": "x", "stop": "y"}})).as_deref(),
            Some("plain.stop")
        );
    }

    #[test]
    fn null_is_accepted_where_it_is_declared() {
        assert_eq!(field(&json!({"maxPingMs": null, "window": null})), None);
        assert_eq!(field(&json!({"plain": {"start": "x", "note": null}})), None);
        assert_eq!(field(&json!({"enabled": true})), None);
        assert_eq!(field(&json!([null])), None);
    }
}
