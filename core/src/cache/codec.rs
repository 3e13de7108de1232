//! How typed values become bytes. JSON by default, so every runtime reads what another
//! wrote; MessagePack behind the `msgpack` feature; raw bytes through the `*_bytes` calls.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// The value encoding of a cache namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Codec {
    /// JSON (the default): readable from every language.
    #[default]
    Json,
    /// Raw bytes, no encoding: use the `*_bytes` methods.
    Bytes,
    /// MessagePack (feature `msgpack`).
    Msgpack,
}

impl Codec {
    /// Parse a codec name (`json`, `bytes`, `msgpack`).
    pub fn parse(name: &str) -> Result<Codec> {
        match name {
            "json" => Ok(Codec::Json),
            "bytes" => Ok(Codec::Bytes),
            "msgpack" => Ok(Codec::Msgpack),
            other => Err(Error::invalid(format!(
                "unknown codec {other:?} (expected json, bytes or msgpack)"
            ))),
        }
    }

    /// The name [`Codec::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::Json => "json",
            Codec::Bytes => "bytes",
            Codec::Msgpack => "msgpack",
        }
    }

    /// Encode a value.
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Vec<u8>> {
        match self {
            Codec::Json => serde_json::to_vec(value)
                .map_err(|e| Error::Encode(format!("cannot encode value as JSON: {e}"))),
            Codec::Msgpack => msgpack_encode(value),
            Codec::Bytes => Err(Error::invalid(
                "the bytes codec stores raw bytes: use set_bytes / get_bytes",
            )),
        }
    }

    /// Decode a value.
    pub fn decode<T: DeserializeOwned>(self, raw: &[u8]) -> Result<T> {
        match self {
            Codec::Json => serde_json::from_slice(raw)
                .map_err(|e| Error::Decode(format!("cached value is not the expected JSON: {e}"))),
            Codec::Msgpack => msgpack_decode(raw),
            Codec::Bytes => Err(Error::invalid(
                "the bytes codec stores raw bytes: use set_bytes / get_bytes",
            )),
        }
    }
}

#[cfg(feature = "msgpack")]
fn msgpack_encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    rmp_serde::to_vec_named(value)
        .map_err(|e| Error::Encode(format!("cannot encode value as MessagePack: {e}")))
}

#[cfg(feature = "msgpack")]
fn msgpack_decode<T: DeserializeOwned>(raw: &[u8]) -> Result<T> {
    rmp_serde::from_slice(raw)
        .map_err(|e| Error::Decode(format!("cached value is not the expected MessagePack: {e}")))
}

#[cfg(not(feature = "msgpack"))]
fn msgpack_encode<T: Serialize + ?Sized>(_: &T) -> Result<Vec<u8>> {
    Err(Error::invalid(
        "the msgpack codec needs redkit's `msgpack` feature",
    ))
}

#[cfg(not(feature = "msgpack"))]
fn msgpack_decode<T: DeserializeOwned>(_: &[u8]) -> Result<T> {
    Err(Error::invalid(
        "the msgpack codec needs redkit's `msgpack` feature",
    ))
}

crate::input::serde_by_name!(Codec);

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_writes_maps_with_string_keys_and_reads_them_back() {
        let value = serde_json::json!({"id": 7, "tags": ["a", "b"]});
        let raw = Codec::Msgpack.encode(&value).unwrap();
        // A fixmap of two entries whose first key is the string "id" (docs/WIRE.md).
        assert_eq!(&raw[..4], &[0x82, 0xa2, b'i', b'd']);
        let back: serde_json::Value = Codec::Msgpack.decode(&raw).unwrap();
        assert_eq!(back, value);
        assert!(Codec::Msgpack.decode::<serde_json::Value>(b"\xc1").is_err());
    }

    #[cfg(not(feature = "msgpack"))]
    #[test]
    fn msgpack_without_the_feature_is_an_invalid_argument() {
        let err = Codec::Msgpack.encode(&1).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    }
}
