//! Test ids as snapshots key them: [`normalize_id`].
//!
//! pytest builds the parameter part of an id (`test_x[...]`) from the
//! parameters' text, and some suites put text there that changes from run
//! to run: object reprs with memory addresses (`<object at 0x2c1f0a8>`,
//! pydantic-core's `Py(0x026a4778)`), random uuids, sets of strings (whose
//! order follows the per-process string hash). Snapshots key tests by the
//! normalised id so that such a test keeps its entry; JSON Lines and JUnit
//! reports keep the raw id.
//!
//! The rules are deliberately few and only touch the parameter part (from
//! the first `[`); the file, class and function names are never changed:
//!
//! 1. a hex number of 6 or more digits after `0x` (lowercase digits, not
//!    preceded by a letter, digit or `_`) becomes `0x?`;
//! 2. a uuid (`8-4-4-4-12` lowercase hex digits, not inside a longer run of
//!    letters, digits or `_`) becomes `<uuid>`;
//! 3. a set display whose items are all simple literals (quoted strings or
//!    bytes without braces, commas or backslashes; numbers; `None`, `True`,
//!    `False`), `{'b', 'c', b'a'}`, has its items sorted as text:
//!    `{'b', 'c', b'a'}` in one order whatever the hash order was. Python
//!    dicts (an item with `:`) keep their insertion order and are left as
//!    they are;
//! 4. a map as Rust's `Debug` prints it (a `HashMap`, whose order follows
//!    a per-process random seed), with double-quoted keys and simple
//!    values, compact `{"b": 1, "a": 0}` or pretty-printed over escaped
//!    newlines (`{\n    "b": 1,\n    "a": 0,\n}`), has its entries
//!    sorted by key.
//!
//! Two different tests may thus get the same key (`[0x1234567]` and
//! `[0x7654321]`); [`keyed`] keeps both, deterministically.

use std::collections::BTreeMap;

use crate::runner::outcome::TestRecord;

/// The id under which a snapshot keeps a test: see the module's
/// documentation. Ids without a parameter part are returned unchanged.
pub fn normalize_id(id: &str) -> String {
    let Some(open) = id.find('[') else {
        return id.to_string();
    };
    let (head, params) = id.split_at(open);
    let params = addresses(&uuids(params));
    let params = sorted_rust_maps(&sorted_sets(&params));
    format!("{head}{params}")
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

/// Rule 1: `0x` and 6+ lowercase hex digits.
fn addresses(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i + 1 < b.len() {
        if b[i] == b'0' && b[i + 1] == b'x' && (i == 0 || !is_word(b[i - 1])) {
            let digits = b[i + 2..].iter().take_while(|&&c| is_lower_hex(c)).count();
            let end = i + 2 + digits;
            if digits >= 6 && b.get(end).is_none_or(|&c| !is_word(c)) {
                out.push_str(&s[copied..i]);
                out.push_str("0x?");
                i = end;
                copied = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// Rule 2: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lowercase hex.
fn uuids(s: &str) -> String {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let b = s.as_bytes();
    let matches_at = |start: usize| -> Option<usize> {
        if start > 0 && is_word(b[start - 1]) {
            return None;
        }
        let mut i = start;
        for (n, &len) in GROUPS.iter().enumerate() {
            if n > 0 {
                if b.get(i) != Some(&b'-') {
                    return None;
                }
                i += 1;
            }
            let run = b.get(i..i + len)?;
            if !run.iter().all(|&c| is_lower_hex(c)) {
                return None;
            }
            i += len;
        }
        match b.get(i) {
            Some(&c) if is_word(c) => None,
            _ => Some(i),
        }
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if let Some(end) = matches_at(i) {
            out.push_str(&s[copied..i]);
            out.push_str("<uuid>");
            i = end;
            copied = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// Is this set item a simple literal?
fn simple_literal(item: &str) -> bool {
    let item = item.strip_prefix('b').unwrap_or(item);
    let b = item.as_bytes();
    if b.len() >= 2 && (b[0] == b'\'' || b[0] == b'"') && b[b.len() - 1] == b[0] {
        let inner = &item[1..item.len() - 1];
        return !inner
            .contains(|c: char| matches!(c, '{' | '}' | ',' | '\\' | ':') || c == b[0] as char);
    }
    matches!(item, "None" | "True" | "False")
        || (!item.is_empty()
            && item
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && item.chars().any(|c| c.is_ascii_digit()))
}

/// Rule 3: sort the items of `{literal, literal, ...}`.
fn sorted_sets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if !after[..close].contains('{') => {
                let body = &after[..close];
                let items: Vec<&str> = body.split(", ").collect();
                if !body.is_empty() && items.iter().all(|i| simple_literal(i)) {
                    let mut items = items;
                    items.sort_unstable();
                    out.push('{');
                    out.push_str(&items.join(", "));
                    out.push('}');
                } else {
                    out.push('{');
                    out.push_str(body);
                    out.push('}');
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A Rust `Debug` map entry: `"key": value` with a key free of quotes and
/// backslashes and a value free of brackets, braces and commas.
fn rust_map_entry(entry: &str) -> bool {
    let Some(rest) = entry.strip_prefix('"') else {
        return false;
    };
    let Some((key, value)) = rest.split_once("\": ") else {
        return false;
    };
    !key.contains(['"', '\\'])
        && !value.is_empty()
        && !value.contains(['{', '}', '[', ']', ',', '(', ')', '"'])
}

/// Rule 4: sort the entries of Rust `Debug` maps.
fn sorted_rust_maps(s: &str) -> String {
    const NL: &str = "\\n";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            rest = after;
            continue;
        };
        let body = &after[..close];
        if body.contains('{') {
            rest = after;
            continue;
        }
        // Pretty: `\n<indent>"k": v,` per entry, then `\n<indent>`.
        let pretty: Option<Vec<&str>> = body.strip_prefix(NL).and_then(|b| {
            let parts: Vec<&str> = b.split(NL).collect();
            let (last, entries) = parts.split_last()?;
            let ok = last.trim().is_empty()
                && !entries.is_empty()
                && entries
                    .iter()
                    .all(|e| e.trim_start().strip_suffix(',').is_some_and(rust_map_entry));
            ok.then(|| entries.to_vec())
        });
        if let Some(mut entries) = pretty {
            let indent = &body[body.rfind(NL).unwrap_or(0) + NL.len()..];
            entries.sort_by_key(|e| e.trim_start());
            for e in &entries {
                out.push_str(NL);
                out.push_str(e);
            }
            out.push_str(NL);
            out.push_str(indent);
            out.push('}');
            rest = &after[close + 1..];
            continue;
        }
        let compact: Vec<&str> = body.split(", ").collect();
        if !body.is_empty() && compact.iter().all(|e| rust_map_entry(e)) {
            let mut entries = compact;
            entries.sort_unstable();
            out.push_str(&entries.join(", "));
            out.push('}');
            rest = &after[close + 1..];
            continue;
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A run's records under their snapshot keys: the normalised id, and when
/// several tests share one, `id`, `id #2`, `id #3`, ... given in order of
/// (outcome, raw id). Comparing these keys compares the sorted list of
/// outcomes of the tests that share a normalised id, whatever the raw ids
/// were this time.
pub fn keyed(results: &BTreeMap<String, TestRecord>) -> BTreeMap<String, &TestRecord> {
    let mut groups: BTreeMap<String, Vec<&TestRecord>> = BTreeMap::new();
    for (id, rec) in results {
        groups.entry(normalize_id(id)).or_default().push(rec);
    }
    let mut out = BTreeMap::new();
    for (key, mut recs) in groups {
        recs.sort_by(|a, b| (a.outcome, &a.id).cmp(&(b.outcome, &b.id)));
        for (n, rec) in recs.into_iter().enumerate() {
            let k = if n == 0 {
                key.clone()
            } else {
                format!("{key} #{}", n + 1)
            };
            out.insert(k, rec);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::rec;
    use super::*;
    use crate::runner::outcome::Outcome::*;

    #[test]
    fn sets_with_bytes_and_rust_maps_are_ordered() {
        // Two runs, two hash orders: one key.
        let a = normalize_id("t.py::f[{1, '2', b'3'}-x]");
        let b = normalize_id("t.py::f[{b'3', 1, '2'}-x]");
        assert_eq!(a, b);
        assert_eq!(a, "t.py::f[{'2', 1, b'3'}-x]");
        let pretty = |order: [(&str, u8); 2]| {
            let entries: String = order
                .iter()
                .map(|(k, v)| format!("\\n        \"{k}\": {v},"))
                .collect();
            format!("t.py::f[M(by_name: {{{entries}\\n    }},\\n)]")
        };
        let one = normalize_id(&pretty([("a", 0), ("b", 1)]));
        let two = normalize_id(&pretty([("b", 1), ("a", 0)]));
        assert_eq!(one, two);
        assert_eq!(one, pretty([("a", 0), ("b", 1)]));
        assert_eq!(
            normalize_id("t.py::f[{\"b\": 1, \"a\": 0}]"),
            "t.py::f[{\"a\": 0, \"b\": 1}]"
        );
        // Python dicts keep their (insertion) order.
        assert_eq!(
            normalize_id("t.py::f[{'b': 1, 'a': 0}]"),
            "t.py::f[{'b': 1, 'a': 0}]"
        );
    }

    #[test]
    fn plain_ids_are_unchanged() {
        for id in [
            "tests/test_a.py::test_b",
            "tests/test_a.py::TestX::test_0xdeadbeef_name",
            "t.py::test[1-2]",
            "t.py::test[0x1f]",
            "t.py::test[{}]",
            "t.py::test[{'a': 1, 'b': 2}]",
            "t.py::test[abc{]",
            "t.py::test[{b, a}]",
            "t.py::test[x0x1234567]",
            "t.py::test[0x12345678abcdefg]",
            "t.py::test[0XABCDEF12]",
        ] {
            assert_eq!(normalize_id(id), id);
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(
            normalize_id(
                "tests/validators/test_complex.py::test_complex_cases[<tests.validators.test_complex.Foobar object at 0x261a9d0>-Err('x')]"
            ),
            "tests/validators/test_complex.py::test_complex_cases[<tests.validators.test_complex.Foobar object at 0x?>-Err('x')]"
        );
        assert_eq!(
            normalize_id("t.py::f[Py(\n    0x026a4778,\n)-0x7ffd1234abcd]"),
            "t.py::f[Py(\n    0x?,\n)-0x?]"
        );
        // Only the parameters.
        assert_eq!(
            normalize_id("t.py::test_0x1234567[0x1234567]"),
            "t.py::test_0x1234567[0x?]"
        );
    }

    #[test]
    fn uuids() {
        assert_eq!(
            normalize_id(
                "t.py::u[core_schema_left11-core_schema_right11-11a9cb53-4e82-48d8-bb34-54e1866f5761-11a9cb53-4e82-48d8-bb34-54e1866f5761-False]"
            ),
            "t.py::u[core_schema_left11-core_schema_right11-<uuid>-<uuid>-False]"
        );
        // Not a uuid: a group too long, upper case.
        for id in [
            "t.py::u[11a9cb53-4e82-48d8-bb34-54e1866f57611]",
            "t.py::u[11A9CB53-4E82-48D8-BB34-54E1866F5761]",
        ] {
            assert_eq!(normalize_id(id), id);
        }
    }

    #[test]
    fn sets_of_literals_are_sorted() {
        assert_eq!(
            normalize_id("t.py::f[frozenset({'3', 1, 2})-IsList(1, 2)]"),
            "t.py::f[frozenset({'3', 1, 2})-IsList(1, 2)]"
        );
        assert_eq!(
            normalize_id("t.py::f[{1, 2, '3'}-x]"),
            normalize_id("t.py::f[{'3', 1, 2}-x]")
        );
        assert_eq!(
            normalize_id("t.py::f[({'a': 1}, None, {'c', 'b', 'a'})]"),
            "t.py::f[({'a': 1}, None, {'a', 'b', 'c'})]"
        );
        // Nested, dict-like or odd contents stay.
        for id in [
            "t.py::f[{'a', {'b'}}]",
            "t.py::f[{'a,b', 'c'}]",
            "t.py::f[Foo {\n    a: 1,\n}]",
            "t.py::f[{x, y}]",
        ] {
            assert_eq!(normalize_id(id), id);
        }
    }

    #[test]
    fn colliding_ids_keep_every_outcome() {
        let mut results = BTreeMap::new();
        for (id, o) in [
            ("t.py::f[<A at 0x2222222>]", Failed),
            ("t.py::f[<A at 0x1111111>]", Passed),
            ("t.py::f[<A at 0x3333333>]", Passed),
            ("t.py::g", Skipped),
        ] {
            results.insert(id.to_string(), rec("p", id, o, 0.0, ""));
        }
        let k = keyed(&results);
        let got: Vec<(&str, _, &str)> = k
            .iter()
            .map(|(k, r)| (k.as_str(), r.outcome, r.id.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("t.py::f[<A at 0x?>]", Passed, "t.py::f[<A at 0x1111111>]"),
                (
                    "t.py::f[<A at 0x?>] #2",
                    Passed,
                    "t.py::f[<A at 0x3333333>]"
                ),
                (
                    "t.py::f[<A at 0x?>] #3",
                    Failed,
                    "t.py::f[<A at 0x2222222>]"
                ),
                ("t.py::g", Skipped, "t.py::g"),
            ]
        );
    }
}
