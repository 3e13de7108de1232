//! One Lua script per algorithm, each the shared head (`rl_common.lua`: arguments, clock,
//! the all-rules-or-nothing decision) followed by the algorithm's own state handling.

use std::sync::LazyLock;

use super::options::Algorithm;
use crate::script::Script;

macro_rules! rate_limit_script {
    ($name:literal) => {
        LazyLock::new(|| {
            Script::new(
                $name,
                concat!(
                    include_str!("../../lua/rl_common.lua"),
                    include_str!(concat!("../../lua/", $name, ".lua"))
                ),
            )
        })
    };
}

static GCRA: LazyLock<Script> = rate_limit_script!("rl_gcra");
static TOKEN_BUCKET: LazyLock<Script> = rate_limit_script!("rl_token_bucket");
static SLIDING_WINDOW: LazyLock<Script> = rate_limit_script!("rl_sliding_window");
static SLIDING_LOG: LazyLock<Script> = rate_limit_script!("rl_sliding_log");
static FIXED_WINDOW: LazyLock<Script> = rate_limit_script!("rl_fixed_window");

/// The script that decides for `algorithm`.
pub(crate) fn script(algorithm: Algorithm) -> &'static Script {
    match algorithm {
        Algorithm::Gcra => &GCRA,
        Algorithm::TokenBucket => &TOKEN_BUCKET,
        Algorithm::SlidingWindow => &SLIDING_WINDOW,
        Algorithm::SlidingLog => &SLIDING_LOG,
        Algorithm::FixedWindow => &FIXED_WINDOW,
    }
}

/// The key part naming an algorithm's state (`rk:{rl:api}:<part>:<identifier>`): one
/// letter, as every byte of a key is paid once per identifier. Algorithms never share a
/// key, so switching a limiter's algorithm never misreads old state.
pub(crate) fn key_part(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Gcra => "g",
        Algorithm::TokenBucket => "t",
        Algorithm::SlidingWindow => "s",
        Algorithm::SlidingLog => "l",
        Algorithm::FixedWindow => "f",
    }
}
