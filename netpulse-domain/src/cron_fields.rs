//! The five fields of a cron expression, checked before a calendar evaluates them, with messages
//! that name the field: minute `0–59`, hour `0–23`, day-of-month `1–31`, month `1–12` or
//! `JAN`–`DEC`, day-of-week `0–7` (0 and 7 are Sunday) or `SUN`–`SAT`. Each field is a list of
//! `*`, `n`, `a-b`, optionally `/step`. Names are refused outside their field (`MON * * * *` is
//! not "minute 1"). The calendar's extensions stay allowed where they belong: `L`, `W` and `?` in
//! day-of-month, `L`, `#` and `?` in day-of-week.
//!
//! An expression that can never fire is refused too: when the day-of-week field is `*` (or
//! `?`), a test runs only on the listed days of the listed months, so `0 0 31 2 *` (31
//! February) or `0 0 30,31 2 *` never runs. February counts 29 days (leap years fire). When
//! day-of-week is restricted as well, a day matching either field fires (the usual cron rule),
//! so such expressions always fire.

/// One field's rules.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names for `min`, `min + 1`, …
    names: &'static [&'static str],
    /// The extension characters the field accepts.
    extensions: &'static str,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        extensions: "",
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        extensions: "",
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        extensions: "LW?",
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
        extensions: "",
    },
    Field {
        name: "day-of-week",
        min: 0,
        max: 7,
        names: &WEEKDAYS,
        extensions: "L#?",
    },
];

/// The days of each month, February with its leap day.
const DAYS_IN_MONTH: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// The values a field matches, as a bit set (bit `n` for value `n`); `None` when it uses an
/// extension (`L`, `W`, `#`, `?`), whose days this check does not work out.
type Values = Option<u64>;

/// Checks a 5-field expression (fields separated by single spaces). The error names the field
/// and says what is wrong, e.g. `minute field "MON": names are allowed only in the month
/// (JAN–DEC) and day-of-week (SUN–SAT) fields`.
pub fn check_cron_fields(expression: &str) -> Result<(), String> {
    let parts: Vec<&str> = expression.split_whitespace().collect();
    if parts.len() != FIELDS.len() {
        return Err("must have 5 fields: minute hour day-of-month month day-of-week".to_owned());
    }
    let mut values = [None; 5];
    for (i, (field, text)) in FIELDS.iter().zip(&parts).enumerate() {
        values[i] = field_values(field, text)
            .map_err(|why| format!("{} field {text:?}: {why}", field.name))?;
    }
    let any_weekday = matches!(parts[4], "*" | "?");
    if let (true, Some(days), Some(months)) = (any_weekday, values[2], values[3]) {
        let fires = (1..=12u32).any(|m| {
            months & (1 << m) != 0
                && (1..=DAYS_IN_MONTH[m as usize - 1]).any(|d| days & (1 << d) != 0)
        });
        if !fires {
            return Err(format!(
                "never fires: no month of the month field {:?} has a day of the day-of-month \
                 field {:?}",
                parts[3], parts[2]
            ));
        }
    }
    Ok(())
}

fn field_values(field: &Field, text: &str) -> Result<Values, String> {
    let mut set = 0u64;
    let mut extended = false;
    for item in text.split(',') {
        if item.is_empty() {
            return Err("has an empty list item".to_owned());
        }
        if item.chars().any(|c| field.extensions.contains(c)) && !item.starts_with('*') {
            check_extension(field, item)?;
            extended = true;
            continue;
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .map_err(|_| format!("step {step:?} is not a number"))?;
                if step == 0 {
                    return Err("a step must be at least 1".to_owned());
                }
                (range, step)
            }
            None => (item, 1),
        };
        let (from, to) = if range == "*" {
            (field.min, field.max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(field, a)?, value(field, b)?);
            if a > b {
                return Err(format!("the range {range} runs backwards"));
            }
            (a, b)
        } else {
            let a = value(field, range)?;
            // `n/step` means from n to the end of the field.
            (a, if item.contains('/') { field.max } else { a })
        };
        let mut v = from;
        while v <= to {
            set |= 1 << v;
            v += step;
        }
    }
    Ok((!extended).then_some(set))
}

fn value(field: &Field, text: &str) -> Result<u32, String> {
    if let Ok(n) = text.parse::<u32>() {
        if n < field.min || n > field.max {
            return Err(format!("{n} is out of range ({}–{})", field.min, field.max));
        }
        return Ok(n);
    }
    if text.chars().any(|c| c.is_ascii_alphabetic()) {
        if field.names.is_empty() {
            return Err(
                "names are allowed only in the month (JAN–DEC) and day-of-week (SUN–SAT) fields"
                    .to_owned(),
            );
        }
        return match field
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
        {
            Some(i) => Ok(field.min + i as u32),
            None => Err(format!(
                "{text:?} is not a {} name ({}–{})",
                field.name,
                field.names[0],
                field.names[field.names.len() - 1]
            )),
        };
    }
    Err(format!("{text:?} is not a number"))
}

/// Day-of-month `L`, `LW`, `nW`, `?`; day-of-week `L`, `nL`, `n#k`, `?`.
fn check_extension(field: &Field, item: &str) -> Result<(), String> {
    let ok = match item {
        "?" | "L" => true,
        "LW" => field.name == "day-of-month",
        _ => {
            if let Some(day) = item
                .strip_suffix('W')
                .filter(|_| field.name == "day-of-month")
            {
                value(field, day).is_ok()
            } else if let Some(day) = item
                .strip_suffix('L')
                .filter(|_| field.name == "day-of-week")
            {
                value(field, day).is_ok()
            } else if let Some((day, nth)) = item.split_once('#') {
                value(field, day).is_ok() && matches!(nth, "1" | "2" | "3" | "4" | "5")
            } else {
                false
            }
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{item:?} is not a valid {} (extensions here: {})",
            field.name,
            field
                .extensions
                .chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join(" ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_expressions_pass() {
        for e in [
            "* * * * *",
            "0 8,20 * * *",
            "*/15 * * * *",
            "5/10 1-5 * * *",
            "0 0 1 JAN,jul *",
            "0 9 * * MON-FRI",
            "0 0 * * 7",
            "0 0 29 2 *",
            "0 0 L * *",
            "0 0 15W * *",
            "0 0 * * 5L",
            "0 0 * * 1#2",
            "0 0 31 2 MON",
        ] {
            assert_eq!(check_cron_fields(e), Ok(()), "{e}");
        }
    }

    #[test]
    fn names_outside_their_field_are_refused() {
        let e = check_cron_fields("MON * * * *").unwrap_err();
        assert!(
            e.starts_with("minute field \"MON\": names are allowed only"),
            "{e}"
        );
        let e = check_cron_fields("0 0 * MON *").unwrap_err();
        assert!(
            e.contains("month field \"MON\": \"MON\" is not a month name (JAN–DEC)"),
            "{e}"
        );
        let e = check_cron_fields("0 JAN * * *").unwrap_err();
        assert!(e.starts_with("hour field"), "{e}");
    }

    #[test]
    fn every_field_names_itself_when_out_of_range() {
        for (expr, field, range) in [
            ("61 * * * *", "minute", "(0–59)"),
            ("0 24 * * *", "hour", "(0–23)"),
            ("0 0 0 * *", "day-of-month", "(1–31)"),
            ("0 0 * 13 *", "month", "(1–12)"),
            ("0 0 * * 8", "day-of-week", "(0–7)"),
        ] {
            let e = check_cron_fields(expr).unwrap_err();
            assert!(e.starts_with(&format!("{field} field")), "{e}");
            assert!(e.contains(range), "{e}");
        }
        assert!(
            check_cron_fields("*/0 * * * *")
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(
            check_cron_fields("5-1 * * * *")
                .unwrap_err()
                .contains("backwards")
        );
        assert!(
            check_cron_fields("1,,2 * * * *")
                .unwrap_err()
                .contains("empty")
        );
        assert!(
            check_cron_fields("0 0 * * 1W")
                .unwrap_err()
                .starts_with("day-of-week")
        );
    }

    #[test]
    fn expressions_that_never_fire_are_refused() {
        for e in ["0 0 31 2 *", "0 0 30,31 2 *", "0 0 31 4,6,9,11 ?"] {
            let why = check_cron_fields(e).unwrap_err();
            assert!(why.starts_with("never fires"), "{e}: {why}");
        }
        assert_eq!(check_cron_fields("0 0 31 2,3 *"), Ok(()));
    }
}
