//! The byte-level rules both signature schemes share: `UriEncode` (RFC 3986
//! unreserved characters kept, everything else `%XX` upper-case), percent
//! decoding, and splitting a query string into decoded name/value pairs.

/// Percent-encodes every byte of `input` except `A–Z a–z 0–9 - _ . ~` (and `/`
/// when `keep_slash`), with upper-case hex digits. Space becomes `%20`.
pub fn uri_encode(input: &[u8], keep_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() + input.len() / 2);
    for &b in input {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/');
        if keep {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// Decodes `%XX` escapes once. A `%` not followed by two hex digits is kept as
/// is; `+` stays `+` (both schemes encode space as `%20`).
pub(crate) fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One query parameter, decoded, with the raw text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryParam<'a> {
    /// The `name=value` text exactly as received.
    pub(crate) raw: &'a str,
    pub(crate) name: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

impl QueryParam<'_> {
    /// Whether the decoded name equals `name`, ignoring ASCII case.
    pub(crate) fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// `UriEncode(name)=UriEncode(value)`, slashes encoded: the form both
    /// schemes sign and the filter sends upstream.
    pub(crate) fn canonical_pair(&self) -> String {
        format!(
            "{}={}",
            uri_encode(&self.name, false),
            uri_encode(&self.value, false)
        )
    }

    /// The decoded value as text (invalid UTF-8 replaced).
    pub(crate) fn value_str(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}

/// Splits a query string (without `?`) into parameters; empty pieces (`a=1&&b`)
/// are skipped. A piece without `=` has an empty value.
pub(crate) fn parse_query(query: &str) -> Vec<QueryParam<'_>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|raw| {
            let (name, value) = raw.split_once('=').unwrap_or((raw, ""));
            QueryParam {
                raw,
                name: percent_decode(name),
                value: percent_decode(value),
            }
        })
        .collect()
}

/// Splits `:path` into the path and the query (without `?`).
pub(crate) fn split_path(path_and_query: &str) -> (&str, &str) {
    path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""))
}

/// The canonical URI both schemes sign: the path decoded once, then encoded
/// with [`uri_encode`] keeping `/`; an empty path is `/`. Clients that escaped
/// the same path differently therefore sign the same string.
pub(crate) fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode(path);
    let trimmed = decoded.strip_prefix(b"/").unwrap_or(&decoded);
    format!("/{}", uri_encode(trimmed, true))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_encode_keeps_only_unreserved() {
        assert_eq!(uri_encode(b"a-Z_0.~", false), "a-Z_0.~");
        assert_eq!(uri_encode(b"a b/c:d", false), "a%20b%2Fc%3Ad");
        assert_eq!(uri_encode(b"a b/c", true), "a%20b/c");
        assert_eq!(
            uri_encode("中".as_bytes(), true),
            "%E4%B8%AD",
            "UTF-8 bytes, upper-case hex"
        );
        assert_eq!(
            uri_encode(b"image/resize,w_1", false),
            "image%2Fresize%2Cw_1"
        );
    }

    #[test]
    fn percent_decode_once_and_tolerant() {
        assert_eq!(percent_decode("a%20b%2fc"), b"a b/c");
        assert_eq!(percent_decode("%252F"), b"%2F");
        assert_eq!(percent_decode("100%"), b"100%");
        assert_eq!(percent_decode("%zz%4"), b"%zz%4");
        assert_eq!(percent_decode("a+b"), b"a+b");
    }

    #[test]
    fn canonical_uri_normalises_escaping() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(
            canonical_uri("/dir/中文 a.jpg"),
            "/dir/%E4%B8%AD%E6%96%87%20a.jpg"
        );
        assert_eq!(canonical_uri("/a%2Cb/c,d"), "/a%2Cb/c%2Cd");
        assert_eq!(canonical_uri("/p.jpg@!thumb"), "/p.jpg%40%21thumb");
    }

    #[test]
    fn query_pairs_are_decoded() {
        let q = parse_query("b=1&&x-bce-process=image%2Fresize&flag&Authorization=x%2Fy");
        assert_eq!(q.len(), 4);
        assert_eq!(q[1].value, b"image/resize");
        assert_eq!(q[2].name, b"flag");
        assert!(q[2].value.is_empty());
        assert!(q[3].is("authorization"));
        assert_eq!(q[3].raw, "Authorization=x%2Fy");
    }
}
