//! Which rule of a table matches a text first.
//!
//! Every pattern is prefixed with a lazy `(?s:.)*?` and the table is searched
//! anchored at the start, so all matches begin at offset 0 and the
//! leftmost-first preference reduces to the rule order. One lazy DFA runs
//! the whole table (several times faster than a `RegexSet` or a loop of
//! regexes). Its memory is its cache; a pattern that makes it thrash
//! (counted repetitions such as `[a-z ]{30}`) only makes it rebuild states,
//! at worst one per byte of text, so a search costs at most the text's
//! length times the automaton's size, and never more memory.
//!
//! The automaton is built directly, without `meta::Regex`: with the lazy
//! prefix no literal can lead a match, so its literal optimizations cost
//! seconds for thousands of user rules and bought nothing; and its PikeVM
//! fallback keeps capture slots per pattern per state, gigabytes for a
//! table of 2,000 rules.

use regex_automata::nfa::thompson;
use regex_automata::util::{pool::Pool, syntax};
use regex_automata::{hybrid, Anchored, Input, MatchKind};

type MakeCache = Box<
    dyn Fn() -> hybrid::dfa::Cache
        + Send
        + Sync
        + std::panic::UnwindSafe
        + std::panic::RefUnwindSafe,
>;

/// A compiled table of patterns.
pub struct Matcher {
    dfa: hybrid::dfa::DFA,
    /// Per-thread search state, so one table serves the parse workers.
    caches: Pool<hybrid::dfa::Cache, MakeCache>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("patterns", &self.dfa.pattern_len())
            .finish()
    }
}

/// The lazy DFA's memory per thread.
const DFA_CACHE: usize = 4 << 20;

impl Matcher {
    /// Compiles `patterns` (regex syntax without Unicode classes; `(?i)`
    /// folds ASCII), refusing an automaton larger than `nfa_limit` bytes.
    pub fn new<S: AsRef<str>>(patterns: &[S], nfa_limit: usize) -> Result<Matcher, String> {
        let anywhere: Vec<String> = patterns
            .iter()
            .map(|p| format!("(?s:.)*?(?:{})", p.as_ref()))
            .collect();
        let nfa = thompson::Compiler::new()
            // Reason texts are ASCII in practice; Unicode case folding and
            // classes would only grow the automaton.
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .nfa_size_limit(Some(nfa_limit))
                    // Only which rule matched is asked, never its groups.
                    .which_captures(thompson::WhichCaptures::Implicit),
            )
            .build_many(&anywhere)
            .map_err(|e| e.to_string())?;
        let dfa = hybrid::dfa::Builder::new()
            .configure(
                hybrid::dfa::Config::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .cache_capacity(DFA_CACHE)
                    // A huge table gets the least cache it can work with.
                    .skip_cache_capacity_check(true)
                    // Never give up: rebuilding states is bounded (above).
                    .minimum_cache_clear_count(None),
            )
            .build_from_nfa(nfa)
            .map_err(|e| e.to_string())?;
        let d = dfa.clone();
        let make: MakeCache = Box::new(move || d.create_cache());
        Ok(Matcher {
            dfa,
            caches: Pool::new(make),
        })
    }

    /// The index of the first pattern (in table order) that matches.
    pub fn first(&self, text: &[u8]) -> Option<usize> {
        let input = Input::new(text).anchored(Anchored::Yes);
        let mut cache = self.caches.get();
        // No quit bytes and no give-up: the search cannot fail.
        self.dfa
            .try_search_fwd(&mut cache, &input)
            .ok()
            .flatten()
            .map(|m| m.pattern().as_usize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_rule_in_order_wins_wherever_it_matches() {
        let m = Matcher::new(&["zzz", "aaa"], 1 << 20).unwrap();
        assert_eq!(m.first(b"aaa then zzz"), Some(0));
        assert_eq!(m.first(b"only aaa"), Some(1));
        assert_eq!(m.first(b"neither"), None);
    }

    #[test]
    fn a_thrashing_pattern_still_answers_and_in_bounded_time() {
        // 2^30 DFA states: the lazy DFA keeps rebuilding, and answers.
        let m = Matcher::new(&["[a-z ]*a[a-z ]{30}XYZ", "never"], 1 << 20).unwrap();
        let mut text = "b".repeat(10);
        for i in 0..2000 {
            text.push(if i % 3 == 0 { 'a' } else { ' ' });
        }
        let started = std::time::Instant::now();
        assert_eq!(m.first(text.as_bytes()), None);
        let mut hit = text.clone();
        hit.push_str(&"a".repeat(31));
        hit.push_str("XYZ");
        assert_eq!(m.first(hit.as_bytes()), Some(0));
        // Not a timing assertion: printed for the record.
        eprintln!(
            "two searches of a thrashing pattern: {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn an_automaton_over_the_limit_is_refused() {
        let err = Matcher::new(&["[a-z]{1000}[0-9]{1000}"], 64 << 10).unwrap_err();
        assert!(err.contains("exceeded limit"), "{err}");
    }
}
