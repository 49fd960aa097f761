//! The JSON value model of a converted `<testcase>`: what Python's `process_xml_element`
//! builds, with insertion-ordered objects whose keys keep their position when overwritten.

/// Strings of converted cases: names, keys and most values fit inline (24 bytes), which
/// spares an allocation per string on a million cases.
pub type Str = compact_str::CompactString;

/// One JSON value, shaped the way the reference's Python dicts are.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(Str),
    Int(i64),
    /// An integer outside `i64`, as its canonical decimal text (optional `-`, no leading zeros).
    BigInt(Str),
    Float(f64),
    List(Vec<Value>),
    Object(Object),
}

/// An insertion-ordered map. Small (a handful of keys), so lookups are linear.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    entries: Vec<(Str, Value)>,
}

impl Object {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Python `d[key] = value`: an existing key keeps its position.
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.entries.push((key.into(), value)),
        }
    }

    /// An object of entries whose keys the caller knows are unique (kept as they are, with
    /// their spare capacity).
    pub fn from_unique(entries: Vec<(Str, Value)>) -> Self {
        Self { entries }
    }

    /// Room for `n` more keys.
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
    }

    /// Append a key the caller knows is not present (attribute names are unique after
    /// parsing). Not checked: a check would make building an object quadratic.
    pub fn push_unique(&mut self, key: Str, value: Value) {
        self.entries.push((key, value));
    }

    /// The reference's child coalescing: the first child with a tag gives the value, a second
    /// one turns it into a list of both (an existing scalar from an attribute becomes the
    /// first item), further ones append.
    pub fn insert_child(&mut self, key: &str, child: Value) {
        match self.get_mut(key) {
            None => self.entries.push((key.into(), child)),
            Some(Value::List(items)) => items.push(child),
            Some(slot) => {
                let first = std::mem::replace(slot, Value::Null);
                *slot = Value::List(vec![first, child]);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value as Python's `float + value` would see it in a sum: ints and floats convert,
    /// anything else is not a number. Integers too large for a float are not numbers either
    /// (Python raises OverflowError there).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::BigInt(s) => s.parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }
}

/// A value as read from a case without owning it: strings are often borrowed straight from
/// the document (see `report::FlatCase`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Str(&'a str),
    /// Anything but a string.
    Other(&'a Value),
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Str(s) => Self::Str(s),
            other => Self::Other(other),
        }
    }
}

impl<'a> ValueRef<'a> {
    pub fn to_value(self) -> Value {
        match self {
            Self::Str(s) => Value::Str(s.into()),
            Self::Other(v) => v.clone(),
        }
    }

    /// See [`Value::as_number`].
    pub fn as_number(self) -> Option<f64> {
        match self {
            Self::Str(_) => None,
            Self::Other(v) => v.as_number(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwrite_keeps_position() {
        let mut o = Object::new();
        o.insert("a", Value::Int(1));
        o.insert("b", Value::Int(2));
        o.insert("a", Value::Int(3));
        let keys: Vec<_> = o.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(o.get("a"), Some(&Value::Int(3)));
    }

    #[test]
    fn child_coalescing_turns_scalar_into_list() {
        let mut o = Object::new();
        o.insert("skipped", Value::Str("attr".into()));
        o.insert_child("skipped", Value::Object(Object::new()));
        o.insert_child("skipped", Value::Object(Object::new()));
        o.insert_child("x", Value::Object(Object::new()));
        assert_eq!(
            o.get("skipped"),
            Some(&Value::List(vec![
                Value::Str("attr".into()),
                Value::Object(Object::new()),
                Value::Object(Object::new())
            ]))
        );
        assert_eq!(o.get("x"), Some(&Value::Object(Object::new())));
    }
}
