//! Reading a connection URL, and saying what is wrong with one: the URL as given (its
//! password masked), what is wrong, and the forms that are accepted. The parsing itself is
//! redis-rs's (native builds); its own errors (`Redis URL did not parse -
//! InvalidClientConfig`) say none of that. [`masked`] serves every build (the edge's REST
//! endpoint too).

#[cfg(feature = "native")]
use crate::error::{Error, Result};

/// The URL forms a client accepts, for errors.
#[cfg(feature = "native")]
pub const ACCEPTED: &str = "redis://[[user]:password@]host[:port][/db], rediss://... (TLS), \
     redis+unix:///path/to/socket[?db=N] or unix:///path, or embedded:// (the in-process engine)";

/// The schemes redis-rs reads (the `valkey` ones are its aliases).
#[cfg(feature = "native")]
const SCHEMES: [&str; 7] = [
    "redis",
    "rediss",
    "redis+unix",
    "unix",
    "valkey",
    "valkeys",
    "valkey+unix",
];

/// `url` read as a server's address and settings; an [`Error::InvalidArgument`] naming the
/// URL (password masked), the fault and the accepted forms otherwise.
#[cfg(feature = "native")]
pub fn connection_info(url: &str) -> Result<redis::ConnectionInfo> {
    use redis::IntoConnectionInfo;
    let bad = |why: &str| {
        Error::invalid(format!(
            "bad Redis URL {:?}: {why}; expected {ACCEPTED}",
            masked(url)
        ))
    };
    let Some((scheme, _)) = url.split_once("://") else {
        return Err(bad("it has no scheme (such as redis://)"));
    };
    if !SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
        return Err(bad(&format!("unsupported scheme {scheme:?}")));
    }
    if let Err(e) = ::url::Url::parse(url) {
        return Err(bad(&e.to_string()));
    }
    url.into_connection_info().map_err(|e| bad(&fault(&e)))
}

/// redis-rs's description of a refused URL (`Invalid database number`), without the
/// error kind it appends (` - InvalidClientConfig`).
#[cfg(feature = "native")]
fn fault(e: &redis::RedisError) -> String {
    let text = e.to_string();
    let text = match text.split_once(" - ") {
        Some((description, _)) => description.to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// `url` with its password replaced by `****` (in the user info, and a unix socket URL's
/// `pass=` parameter), safe to show in errors and logs.
pub fn masked(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((info, host)) => match info.split_once(':') {
            Some((user, _)) => format!("{user}:****@{host}"),
            None => format!("{info}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = mask_param(tail, "pass=");
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

/// `text` with the value of every `name` query parameter replaced by `****`.
fn mask_param(text: &str, name: &str) -> String {
    let Some((path, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.strip_prefix(name) {
            Some(_) => format!("{name}****"),
            None => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        for (url, shown) in [
            ("redis://:secret@host:1/2", "redis://:****@host:1/2"),
            ("redis://u:se:cr@et@host", "redis://u:****@host"),
            ("redis://user@host", "redis://user@host"),
            ("redis://host:1", "redis://host:1"),
            (
                "unix:///tmp/r.sock?db=1&pass=secret",
                "unix:///tmp/r.sock?db=1&pass=****",
            ),
            ("u:secret@host", "u:****@host"),
        ] {
            assert_eq!(masked(url), shown, "{url}");
        }
    }

    #[test]
    #[cfg(feature = "native")]
    fn a_bad_url_is_shown_masked_with_its_fault_and_the_accepted_forms() {
        for (url, fault) in [
            ("http://u:secret@localhost:1", "unsupported scheme \"http\""),
            ("not a url", "it has no scheme"),
            ("redis://:secret@127.0.0.1:99999", "invalid port number"),
            ("redis://127.0.0.1:1/abc", "invalid database number"),
            ("rediss://:secret@host/#x", "only #insecure is supported"),
        ] {
            let e = connection_info(url).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
            let text = e.to_string();
            assert!(!text.contains("secret"), "{text}");
            assert!(text.contains(&format!("{:?}", masked(url))), "{text}");
            assert!(text.contains(fault), "{text}");
            assert!(text.contains(ACCEPTED), "{text}");
            assert!(!text.contains("InvalidClientConfig"), "{text}");
        }
        assert!(connection_info("redis://:secret@127.0.0.1:6380/3").is_ok());
    }
}
