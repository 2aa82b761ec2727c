//! Where every key of a config file is: the spanned TOML tree flattened into
//! paths with spans, so any message can point at a line and column.

use std::fmt;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A key's place in the document: `["strategy", 1, "sha256"]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The document itself (displays as the empty string).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with the table key `key` appended.
    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        Self(segs)
    }

    /// This path with the 0-based array index `index` appended.
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Self(segs)
    }

    /// The path without its last step (the root stays the root).
    pub fn parent(&self) -> Self {
        let mut segs = self.0.clone();
        segs.pop();
        Self(segs)
    }

    /// The last key name, skipping array indexes.
    pub fn last_key(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
    }

    /// Path from a literal list of keys, for the fixed sections.
    pub fn of(keys: &[&str]) -> Self {
        Self(keys.iter().map(|k| Seg::Key((*k).to_owned())).collect())
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One key (or array element) of the document.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Where the key is in the document's tree.
    pub path: KeyPath,
    /// The key's text; for an array element, the element itself.
    pub key_span: Range<usize>,
    /// The value; for a `[table]` or `[[table]]`, its header.
    pub value_span: Range<usize>,
    /// `string`, `integer`, `float`, `boolean`, `datetime`, `array` or `table`.
    pub kind: &'static str,
    /// The value, when it is a string.
    pub text: Option<String>,
}

/// Every key of one document, in document order, and the text to turn byte
/// offsets into lines and columns. Empty for configs that have no file.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceMap {
    text: String,
    entries: Vec<Entry>,
}

impl SourceMap {
    /// Flattens a parsed document.
    pub fn new(text: &str, root: &DeTable<'_>) -> Self {
        let mut entries = Vec::new();
        walk_table(root, &KeyPath::root(), &mut entries);
        entries.sort_by_key(|e| (e.key_span.start, e.path.0.len()));
        Self {
            text: text.to_owned(),
            entries,
        }
    }

    /// Every key, in document order (a table before its keys).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The key at `path`, or `None` when the document does not spell it out
    /// (a default, or a config with no file).
    pub fn get(&self, path: &KeyPath) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.path == path)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> Option<(usize, usize)> {
        line_column(&self.text, offset)
    }

    /// Where a key is; a key that is not in the file falls back to its
    /// nearest enclosing table (so "missing sha256" points at its [[strategy]]).
    pub fn locate(&self, path: &KeyPath) -> Option<(usize, usize)> {
        let mut path = path.clone();
        loop {
            if let Some(entry) = self.get(&path) {
                return self.position(entry.key_span.start);
            }
            if path.0.is_empty() {
                return None;
            }
            path = path.parent();
        }
    }

    /// The entry a serde error's span is about: among entries whose value
    /// (else whose key) has exactly this span, the deepest one of `kind`
    /// when one is (an array of tables and its first element share a span),
    /// else the deepest.
    pub fn find_span(&self, span: &Range<usize>, kind: Option<&str>) -> Option<&Entry> {
        let pick = |matches: &dyn Fn(&Entry) -> bool| {
            let candidates = || self.entries.iter().filter(|e| matches(e));
            candidates()
                .filter(|e| Some(e.kind) == kind)
                .max_by_key(|e| e.path.0.len())
                .or_else(|| candidates().max_by_key(|e| e.path.0.len()))
        };
        pick(&|e: &Entry| &e.value_span == span).or_else(|| pick(&|e: &Entry| &e.key_span == span))
    }

    /// The text of a span (empty when out of range).
    pub fn slice(&self, span: &Range<usize>) -> &str {
        self.text.get(span.clone()).unwrap_or("")
    }

    /// The `id` of the `index`th `[[strategy]]`, when the file sets one.
    pub fn strategy_id(&self, index: usize) -> Option<&str> {
        self.get(&KeyPath::of(&["strategy"]).index(index).key("id"))
            .and_then(|e| e.text.as_deref())
            .filter(|id| !id.is_empty())
    }

    /// How messages name the table a path is in: `[hot_reload]`,
    /// `[[strategy]] `sma-fast``, `[strategy.params] of `sma-fast``.
    pub fn table_name(&self, table: &KeyPath) -> String {
        let strategy = |i: usize| match self.strategy_id(i) {
            Some(id) => format!("`{id}`"),
            None => format!("#{}", i + 1),
        };
        match table.0.as_slice() {
            [] => "the top level".to_owned(),
            [Seg::Key(s), Seg::Index(i)] if s == "strategy" => {
                format!("[[strategy]] {}", strategy(*i))
            }
            [Seg::Key(s), Seg::Index(i), rest @ ..] if s == "strategy" => {
                let rest = KeyPath(rest.to_vec());
                format!("[strategy.{rest}] of {}", strategy(*i))
            }
            [Seg::Key(o), Seg::Key(t), Seg::Index(i)] if o == "ops" && t == "tokens" => {
                format!("[[ops.tokens]] #{}", i + 1)
            }
            _ => format!("[{table}]"),
        }
    }

    /// `at the top level` / `in [hot_reload]`.
    pub fn where_in(&self, table: &KeyPath) -> String {
        if table.0.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in {}", self.table_name(table))
        }
    }
}

/// 1-based line and column (in characters) of a byte offset into `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset.min(text.len()))?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    Some((line, column))
}

fn walk_table(table: &DeTable<'_>, at: &KeyPath, out: &mut Vec<Entry>) {
    for (key, value) in table.iter() {
        let path = at.key(key.get_ref());
        out.push(entry(&path, key.span(), value));
        walk_value(value.get_ref(), &path, out);
    }
}

fn walk_value(value: &DeValue<'_>, path: &KeyPath, out: &mut Vec<Entry>) {
    match value {
        DeValue::Table(table) => walk_table(table, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = path.index(i);
                out.push(entry(&path, item.span(), item));
                walk_value(item.get_ref(), &path, out);
            }
        }
        _ => {}
    }
}

fn entry(path: &KeyPath, key_span: Range<usize>, value: &toml::Spanned<DeValue<'_>>) -> Entry {
    Entry {
        path: path.clone(),
        key_span,
        value_span: value.span(),
        kind: value.get_ref().type_str(),
        text: value.get_ref().as_str().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> SourceMap {
        let root = DeTable::parse(text).unwrap();
        SourceMap::new(text, root.get_ref())
    }

    #[test]
    fn locates_keys_and_falls_back_to_their_table() {
        let m = map("profile = \"dev\"\n[[strategy]]\nid = \"a\"\n\n[[strategy]]\n  id = \"b\"\n");
        let second = KeyPath::of(&["strategy"]).index(1);
        assert_eq!(m.locate(&second.key("id")), Some((6, 3)));
        assert_eq!(m.locate(&second.key("sha256")), Some((5, 1)));
        assert_eq!(m.strategy_id(1), Some("b"));
        assert_eq!(m.table_name(&second), "[[strategy]] `b`");
        assert_eq!(
            m.table_name(&second.key("params")),
            "[strategy.params] of `b`"
        );
        assert_eq!(second.key("sha256").to_string(), "strategy[1].sha256");
    }

    #[test]
    fn columns_count_characters() {
        let m = map("# é\na = [\"é\", 1]\nb = 1\n");
        let b = m.get(&KeyPath::of(&["b"])).unwrap();
        assert_eq!(m.position(b.key_span.start), Some((3, 1)));
        let one = m.get(&KeyPath::of(&["a"]).index(1)).unwrap();
        assert_eq!(m.position(one.value_span.start), Some((2, 11)));
    }
}
