//! A flag that takes a value or `none` (to clear a setting), shared by the commands.

/// A value, or `none` to clear the setting.
#[derive(Debug, Clone, Copy)]
pub struct OrNone<T>(pub Option<T>);

/// Reads `none` (any case) or a `T`.
pub fn or_none<T: std::str::FromStr>(text: &str) -> Result<OrNone<T>, String> {
    if text.eq_ignore_ascii_case("none") {
        Ok(OrNone(None))
    } else {
        text.parse::<T>()
            .map(|v| OrNone(Some(v)))
            .map_err(|_| format!("expected a number or `none`, got {text:?}"))
    }
}
