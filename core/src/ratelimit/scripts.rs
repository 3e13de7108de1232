//! The Lua scripts of each algorithm, each the shared head (`rl_common.lua`: arguments,
//! clock) and a decision (`rl_one_rule.lua` or `rl_rules.lua`) with the algorithm's file
//! pasted where the decision says `-- ALGORITHM` (why pasted rather than called:
//! `rl_common.lua`). Lines marked `--block:` are kept (unmarked) only in the scripts of a
//! limiter with `block_for`, and lines marked `--adjust:` only in the penalty/reward
//! script, so the scripts of a plain `limit` carry nothing they do not run.

use std::sync::LazyLock;

use super::options::Algorithm;
use crate::script::Script;

/// The line of a decision that the algorithm's file replaces.
const PLACEHOLDER: &str = "-- ALGORITHM\n";

/// The marks of lines kept only in some scripts.
const BLOCK: &str = "--block: ";
const ADJUST: &str = "--adjust: ";

/// The head, then `decision` with `algorithm` in place of its placeholder; lines marked
/// with one of `keep` lose their mark, lines with another mark are left out. Built once per
/// script and process, so the source can live as long as the [`Script`] that holds it.
fn assemble(decision: &str, algorithm: &str, keep: &[&str]) -> &'static str {
    assert!(
        decision.contains(PLACEHOLDER),
        "a rate-limit decision lacks its `{}` line",
        PLACEHOLDER.trim_end()
    );
    let whole = format!(
        "{}{}",
        include_str!("../../lua/rl_common.lua"),
        decision.replacen(PLACEHOLDER, algorithm, 1)
    );
    Box::leak(unmark(&whole, keep).into_boxed_str())
}

/// `text` with the marks of `keep` taken off their lines and the other marked lines left
/// out.
pub(crate) fn unmark(text: &str, keep: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let kept = match [BLOCK, ADJUST].into_iter().find(|m| line.starts_with(m)) {
            None => Some(line),
            Some(mark) if keep.contains(&mark) => Some(&line[mark.len()..]),
            Some(_) => None,
        };
        if let Some(line) = kept {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every mark, for tests that read the Lua files as written.
#[cfg(test)]
pub(crate) const MARKS: [&str; 2] = [BLOCK, ADJUST];

/// The scripts of an algorithm.
struct Scripts {
    one_rule: Script,
    rules: Script,
    /// The same two for a limiter with `block_for`.
    one_rule_block: Script,
    rules_block: Script,
    /// `penalty` and `reward`.
    adjust: Script,
}

macro_rules! rate_limit_scripts {
    ($name:literal) => {
        LazyLock::new(|| {
            let algorithm = include_str!(concat!("../../lua/", $name, ".lua"));
            let one = include_str!("../../lua/rl_one_rule.lua");
            let rules = include_str!("../../lua/rl_rules.lua");
            Scripts {
                one_rule: Script::new($name, assemble(one, algorithm, &[])),
                rules: Script::new(concat!($name, "_rules"), assemble(rules, algorithm, &[])),
                one_rule_block: Script::new(
                    concat!($name, "_block"),
                    assemble(one, algorithm, &[BLOCK]),
                ),
                rules_block: Script::new(
                    concat!($name, "_rules_block"),
                    assemble(rules, algorithm, &[BLOCK]),
                ),
                adjust: Script::new(
                    concat!($name, "_adjust"),
                    assemble(rules, algorithm, &[ADJUST]),
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

fn scripts(algorithm: Algorithm) -> &'static Scripts {
    match algorithm {
        Algorithm::Gcra => &GCRA,
        Algorithm::TokenBucket => &TOKEN_BUCKET,
        Algorithm::SlidingWindow => &SLIDING_WINDOW,
        Algorithm::SlidingLog => &SLIDING_LOG,
        Algorithm::FixedWindow => &FIXED_WINDOW,
    }
}

/// The script that decides for `algorithm` over `rules` rules, with a block key when the
/// limiter has `block_for`.
pub(crate) fn script(algorithm: Algorithm, rules: usize, block: bool) -> &'static Script {
    let scripts = scripts(algorithm);
    match (rules == 1, block) {
        (true, false) => &scripts.one_rule,
        (false, false) => &scripts.rules,
        (true, true) => &scripts.one_rule_block,
        (false, true) => &scripts.rules_block,
    }
}

/// The script of `penalty` and `reward` for `algorithm` (any number of rules).
pub(crate) fn adjust(algorithm: Algorithm) -> &'static Script {
    &scripts(algorithm).adjust
}

/// Every rate-limit script, for [`crate::script::all`].
pub(crate) fn all() -> Vec<&'static Script> {
    Algorithm::ALL
        .into_iter()
        .flat_map(|algorithm| {
            let s = scripts(algorithm);
            [
                &s.one_rule,
                &s.rules,
                &s.one_rule_block,
                &s.rules_block,
                &s.adjust,
            ]
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
            for block in [false, true] {
                let one = script(algorithm, 1, block).source();
                assert_eq!(
                    one.matches("local function ").count(),
                    1,
                    "{algorithm:?}: {one}"
                );
                assert!(!one.contains(PLACEHOLDER), "{algorithm:?}");
                let rules = script(algorithm, 2, block).source();
                assert!(rules.contains("local function rule("), "{algorithm:?}");
                assert!(!rules.contains(PLACEHOLDER), "{algorithm:?}");
            }
        }
    }

    /// Marked lines reach only their scripts, unmarked: a plain limit runs none of them.
    #[test]
    fn marked_lines_reach_only_their_scripts() {
        for algorithm in Algorithm::ALL {
            let marked = |s: &Script| {
                s.source()
                    .lines()
                    .any(|l| l.starts_with(BLOCK) || l.starts_with(ADJUST))
            };
            let plain = [script(algorithm, 1, false), script(algorithm, 2, false)];
            for s in plain {
                assert!(!s.source().contains("block_key"), "{}", s.name());
                assert!(!s.source().contains("count_denied = ARGV"), "{}", s.name());
                assert!(!marked(s), "{}", s.name());
            }
            for s in [script(algorithm, 1, true), script(algorithm, 2, true)] {
                assert!(s.source().contains("redis.call('PTTL', block_key)"));
                assert!(!marked(s), "{}", s.name());
            }
            let adjust = adjust(algorithm);
            assert!(adjust
                .source()
                .contains("\ncost, count_denied = ARGV[1] + 0, true\n"));
            assert!(!adjust.source().contains("block_key") && !marked(adjust));
        }
    }
}
