//! A small JSON writer for the hot path.
//!
//! Records are written straight into a byte buffer in the field order Microsoft uses; going through
//! `serde_json::Value` would cost an allocation per field and lose that order. Objects and arrays
//! close themselves when dropped, so a record cannot be left half-written.

/// Appends `s` as a JSON string literal.
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                buf.extend_from_slice(&bytes[start..i]);
                buf.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(esc);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Appends an integer.
pub(crate) fn write_int(buf: &mut Vec<u8>, n: i64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        buf.push(b'-');
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// A JSON object being written; `}` is written when it is dropped.
pub(crate) struct Obj<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Starts an object at the end of `buf`.
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.push(b'{');
        Self { buf, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        write_str(self.buf, k);
        self.buf.push(b':');
    }

    /// `"k":"v"`.
    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        write_str(self.buf, v);
        self
    }

    /// `"k":"v"`, or `"k":null` when `v` is `None`.
    pub(crate) fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    /// `"k":n`.
    pub(crate) fn int(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        write_int(self.buf, v);
        self
    }

    /// `"k":true|false`.
    pub(crate) fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// `"k":null`.
    pub(crate) fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(b"null");
        self
    }

    /// `"k":` followed by a value written by `f` directly into the buffer.
    pub(crate) fn with(&mut self, k: &str, f: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        self.key(k);
        f(self.buf);
        self
    }

    /// `"k":{…}`.
    pub(crate) fn obj(&mut self, k: &str) -> Obj<'_> {
        self.key(k);
        Obj::new(self.buf)
    }

    /// `"k":[…]`.
    pub(crate) fn arr(&mut self, k: &str) -> Arr<'_> {
        self.key(k);
        Arr::new(self.buf)
    }

    /// The buffer written so far (e.g. to remember an offset to patch later).
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }
}

impl Drop for Obj<'_> {
    fn drop(&mut self) {
        self.buf.push(b'}');
    }
}

/// A JSON array being written; `]` is written when it is dropped.
pub(crate) struct Arr<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Arr<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.push(b'[');
        Self { buf, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    /// An object element.
    pub(crate) fn obj(&mut self) -> Obj<'_> {
        self.sep();
        Obj::new(self.buf)
    }

    /// A `{"Name":…,"Value":…}` element whose value needs no escaping; returns the byte offset of
    /// the value so that it can be patched in place later.
    pub(crate) fn name_value_at(&mut self, name: &str, value: &str) -> usize {
        self.sep();
        self.buf.extend_from_slice(b"{\"Name\":");
        write_str(self.buf, name);
        self.buf.extend_from_slice(b",\"Value\":\"");
        let at = self.buf.len();
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.extend_from_slice(b"\"}");
        at
    }

    /// A `{"Name":…,"Value":…}` element, the UAL's name/value pair.
    pub(crate) fn name_value(&mut self, name: &str, value: &str) -> &mut Self {
        self.obj().str("Name", name).str("Value", value);
        self
    }
}

impl Drop for Arr<'_> {
    fn drop(&mut self) {
        self.buf.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_objects_that_serde_reads_back() {
        let mut buf = Vec::new();
        {
            let mut o = Obj::new(&mut buf);
            o.str("A", "q\"uote\\ \r\n\u{1}")
                .int("N", -42)
                .bool("B", true)
                .null("Z");
            {
                let mut a = o.arr("L");
                a.name_value("MailAccessType", "Bind");
            }
            o.obj("E");
        }
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["A"], "q\"uote\\ \r\n\u{1}");
        assert_eq!(v["N"], -42);
        assert_eq!(v["L"][0]["Value"], "Bind");
        assert_eq!(v["E"], serde_json::json!({}));
    }

    #[test]
    fn integers_round_trip() {
        for n in [0, 7, -1, i64::MAX, i64::MIN, 1_000_000] {
            let mut b = Vec::new();
            write_int(&mut b, n);
            assert_eq!(String::from_utf8(b).unwrap(), n.to_string());
        }
    }
}
