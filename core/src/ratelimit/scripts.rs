//! Two Lua scripts per algorithm, one for a single rule and one for several, each the
//! shared head (`rl_common.lua`: arguments, clock) and a decision (`rl_one_rule.lua` or
//! `rl_rules.lua`) with the algorithm's file pasted where the decision says `-- ALGORITHM`
//! (why pasted rather than called: `rl_common.lua`).

use std::sync::LazyLock;

use super::options::Algorithm;
use crate::script::Script;

/// The line of a decision that the algorithm's file replaces.
const PLACEHOLDER: &str = "-- ALGORITHM\n";

/// The head, then `decision` with `algorithm` in place of its placeholder. Built once per
/// script and process, so the source can live as long as the [`Script`] that holds it.
fn assemble(decision: &str, algorithm: &str) -> &'static str {
    assert!(
        decision.contains(PLACEHOLDER),
        "a rate-limit decision lacks its `{}` line",
        PLACEHOLDER.trim_end()
    );
    let source = format!(
        "{}{}",
        include_str!("../../lua/rl_common.lua"),
        decision.replacen(PLACEHOLDER, algorithm, 1)
    );
    Box::leak(source.into_boxed_str())
}

/// The one-rule and the several-rules script of an algorithm.
struct Scripts {
    one_rule: Script,
    rules: Script,
}

macro_rules! rate_limit_scripts {
    ($name:literal) => {
        LazyLock::new(|| {
            let algorithm = include_str!(concat!("../../lua/", $name, ".lua"));
            Scripts {
                one_rule: Script::new(
                    $name,
                    assemble(include_str!("../../lua/rl_one_rule.lua"), algorithm),
                ),
                rules: Script::new(
                    concat!($name, "_rules"),
                    assemble(include_str!("../../lua/rl_rules.lua"), algorithm),
                ),
            }
        })
    };
}

static GCRA: LazyLock<Scripts> = rate_limit_scripts!("rl_gcra");
static TOKEN_BUCKET: LazyLock<Scripts> = rate_limit_scripts!("rl_token_bucket");
static SLIDING_WINDOW: LazyLock<Scripts> = rate_limit_scripts!("rl_sliding_window");
static SLIDING_LOG: LazyLock<Scripts> = rate_limit_scripts!("rl_sliding_log");
static FIXED_WINDOW: LazyLock<Scripts> = rate_limit_scripts!("rl_fixed_window");

/// The script that decides for `algorithm` over `rules` rules.
pub(crate) fn script(algorithm: Algorithm, rules: usize) -> &'static Script {
    let scripts: &Scripts = match algorithm {
        Algorithm::Gcra => &GCRA,
        Algorithm::TokenBucket => &TOKEN_BUCKET,
        Algorithm::SlidingWindow => &SLIDING_WINDOW,
        Algorithm::SlidingLog => &SLIDING_LOG,
        Algorithm::FixedWindow => &FIXED_WINDOW,
    };
    if rules == 1 {
        &scripts.one_rule
    } else {
        &scripts.rules
    }
}

/// Every rate-limit script, for [`crate::script::all`].
pub(crate) fn all() -> Vec<&'static Script> {
    [
        &GCRA,
        &TOKEN_BUCKET,
        &SLIDING_WINDOW,
        &SLIDING_LOG,
        &FIXED_WINDOW,
    ]
    .into_iter()
    .flat_map(|scripts| {
        let scripts: &'static Scripts = scripts;
        [&scripts.one_rule, &scripts.rules]
    })
    .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-rule scripts stay free of closures (the head's `ms` aside), which Redis
    /// would build anew on every call; see `rl_common.lua`.
    #[test]
    fn one_rule_scripts_define_no_function_of_their_own() {
        for algorithm in Algorithm::ALL {
            let one = script(algorithm, 1).source();
            assert_eq!(
                one.matches("local function ").count(),
                1,
                "{algorithm:?}: {one}"
            );
            assert!(!one.contains(PLACEHOLDER), "{algorithm:?}");
            let rules = script(algorithm, 2).source();
            assert!(rules.contains("local function rule("), "{algorithm:?}");
            assert!(!rules.contains(PLACEHOLDER), "{algorithm:?}");
        }
    }
}
