use serde_json::{Value, json};

fn served(raw: &Value) -> Value {
    serde_json::from_str(&super::truthful(&raw.to_string())).unwrap()
}

fn document() -> Value {
    json!({
        "openapi": "3.0.0",
        "paths": {
            "/things/{thing_id}": {
                "get": {
                    "parameters": [
                        {"name": "thing_id", "in": "path", "schema": {"type": "string"}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Page"}}}}}
                },
                "patch": {
                    "requestBody": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Patch"}}}},
                    "responses": {"204": {}}
                }
            }
        },
        "components": {"schemas": {
            "Page": {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                "nextCursor": {"type": "string"}
            }},
            "Thing": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"},
                "owner": {"$ref": "#/components/schemas/Owner"},
                "note": {"type": "string", "description": "A note."}
            }},
            "Owner": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}
            }},
            "Patch": {"type": "object", "properties": {
                "enabled": {"type": "boolean"},
                "label": {"type": "string", "nullable": true}
            }}
        }}
    })
}

#[test]
fn optional_properties_of_answers_become_nullable() {
    let doc = served(&document());
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Page"]["properties"]["nextCursor"]["nullable"],
        true
    );
    assert_eq!(schemas["Thing"]["properties"]["note"]["nullable"], true);
    assert_eq!(
        schemas["Thing"]["properties"]["note"]["description"],
        "A note."
    );
    // A reference is wrapped, since OpenAPI 3.0 ignores the siblings of `$ref`.
    assert_eq!(
        schemas["Thing"]["properties"]["owner"],
        json!({"allOf": [{"$ref": "#/components/schemas/Owner"}], "nullable": true})
    );
    // Required properties stay as they are.
    assert_eq!(
        schemas["Thing"]["properties"]["id"],
        json!({"type": "string"})
    );
    assert_eq!(
        schemas["Owner"]["properties"]["name"],
        json!({"type": "string"})
    );
    assert_eq!(
        schemas["Page"]["properties"]["items"]["items"],
        json!({"$ref": "#/components/schemas/Thing"})
    );
}

#[test]
fn request_schemas_keep_their_nullability_and_are_closed() {
    let doc = served(&document());
    let patch = &doc["components"]["schemas"]["Patch"];
    assert_eq!(patch["properties"]["enabled"], json!({"type": "boolean"}));
    assert_eq!(patch["properties"]["label"]["nullable"], true);
    // The server refuses unknown keys.
    assert_eq!(patch["additionalProperties"], false);
    assert!(
        doc["components"]["schemas"]["Page"]
            .get("additionalProperties")
            .is_none()
    );
}

#[test]
fn path_ids_are_uuids() {
    let doc = served(&document());
    let parameters = &doc["paths"]["/things/{thing_id}"]["get"]["parameters"];
    assert_eq!(
        parameters[0]["schema"],
        json!({"type": "string", "format": "uuid"})
    );
    assert_eq!(parameters[1]["schema"], json!({"type": "string"}));
}

#[test]
fn unsigned_integers_have_their_bounds() {
    let doc = served(&json!({
        "paths": {"/x": {"get": {
            "parameters": [{"name": "limit", "in": "query",
                "schema": {"type": "integer", "format": "uint32"}}],
            "responses": {}
        }}},
        "components": {"schemas": {"S": {"type": "object", "properties": {
            "a": {"type": "integer", "format": "uint64"},
            "b": {"type": "integer", "format": "int64"},
            "c": {"type": "integer", "format": "uint8", "minimum": 1}
        }}}}
    }));
    assert_eq!(
        doc["paths"]["/x"]["get"]["parameters"][0]["schema"],
        json!({"type": "integer", "format": "uint32", "minimum": 0, "maximum": 4_294_967_295_u64})
    );
    let p = &doc["components"]["schemas"]["S"]["properties"];
    assert_eq!(
        p["a"],
        json!({"type": "integer", "format": "uint64", "minimum": 0})
    );
    assert_eq!(p["b"], json!({"type": "integer", "format": "int64"}));
    assert_eq!(
        p["c"],
        json!({"type": "integer", "format": "uint8", "minimum": 1, "maximum": 255})
    );
}
