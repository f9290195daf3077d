//! The rules-file loader on arbitrary text: a file either loads or is
//! refused with a message, never a panic; a loaded table classifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::classify::Classifier;

fuzz_target!(|text: &str| {
    match Classifier::from_rules_text(text, std::path::Path::new("rules.toml")) {
        Ok(c) => {
            let v = c.classify(text);
            let _ = v.cause.id();
            let _ = c.classify("host mx[192.0.2.1] said: 550 5.7.1 blocked using zen.spamhaus.org");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
