//! Redis's glob patterns (KEYS, SCAN MATCH, PSUBSCRIBE): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.

/// Whether `s` matches the glob `pattern`.
pub(crate) fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    match pattern.first() {
        None => s.is_empty(),
        Some(b'*') => {
            let rest = &pattern[1..];
            (0..=s.len()).any(|i| glob_match(rest, &s[i..]))
        }
        Some(b'?') => !s.is_empty() && glob_match(&pattern[1..], &s[1..]),
        Some(b'[') => {
            let Some((&c, tail)) = s.split_first() else {
                return false;
            };
            let (matched, rest) = class(&pattern[1..], c);
            matched && glob_match(rest, tail)
        }
        Some(b'\\') if pattern.len() > 1 => {
            s.first() == Some(&pattern[1]) && glob_match(&pattern[2..], &s[1..])
        }
        Some(&p) => s.first() == Some(&p) && glob_match(&pattern[1..], &s[1..]),
    }
}

/// Match `c` against a `[...]` class whose body starts at `p`; the pattern after the class.
fn class(mut p: &[u8], c: u8) -> (bool, &[u8]) {
    let negate = p.first() == Some(&b'^');
    if negate {
        p = &p[1..];
    }
    let mut matched = false;
    loop {
        match p {
            [] => break,
            [b']', rest @ ..] => {
                p = rest;
                break;
            }
            [b'\\', x, rest @ ..] => {
                matched |= *x == c;
                p = rest;
            }
            [a, b'-', b, rest @ ..] if *b != b']' => {
                let (lo, hi) = if a <= b { (*a, *b) } else { (*b, *a) };
                matched |= (lo..=hi).contains(&c);
                p = rest;
            }
            [x, rest @ ..] => {
                matched |= *x == c;
                p = rest;
            }
        }
    }
    (matched != negate, p)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h*o", b"heeeello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-c]llo", b"hbllo"));
        assert!(glob_match(b"news.*", b"news.tech"));
        assert!(!glob_match(b"news.*", b"new"));
        assert!(glob_match(b"a\\*", b"a*"));
    }
}
