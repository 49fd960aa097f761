//! The state and verdict rules: how the occurrences of one test key in a run fold into a
//! [`State`], how a head state and a base state give a [`Verdict`], and the one-sentence
//! explanation of which rule fired (Dr. CI's users ask for the why: test-infra#4067, #5139).

use std::fmt;

/// The outcome of one occurrence of a test (one `<testcase>` element).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Failed,
    Skipped,
    Passed,
}

impl Outcome {
    /// Failed if the testcase has a `<failure>` or `<error>` (that wins over `<skipped>`:
    /// a teardown error after a skip is still an error), skipped if it has only
    /// `<skipped>`, passed otherwise.
    pub fn of(has_failure_or_error: bool, has_skipped: bool) -> Outcome {
        if has_failure_or_error {
            Outcome::Failed
        } else if has_skipped {
            Outcome::Skipped
        } else {
            Outcome::Passed
        }
    }
}

/// One occurrence of a test: its outcome and whether it carries `<rerun>` children (pytest
/// retried it in process; with a pass, it failed first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Occurrence {
    pub outcome: Outcome,
    pub has_retries: bool,
}

/// What one run says about a test key, all its occurrences (shards, re-launches, XMLs)
/// taken together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Some occurrence failed and none passed (skipped ones do not count either way).
    Failing,
    /// Some occurrence failed and some passed, or a pass needed retries.
    Flaky,
    /// Some occurrence passed, none failed, none needed retries.
    Passed,
    /// Every occurrence was skipped.
    Skipped,
    /// No occurrence: the test did not run.
    Absent,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Failing,
        State::Flaky,
        State::Passed,
        State::Skipped,
        State::Absent,
    ];

    /// Folds every occurrence of one key; see [`StateAcc`] to fold without collecting.
    pub fn fold(occurrences: impl IntoIterator<Item = Occurrence>) -> State {
        let mut acc = StateAcc::default();
        for o in occurrences {
            acc.add(o);
        }
        acc.state()
    }

    pub fn name(self) -> &'static str {
        match self {
            State::Failing => "failing",
            State::Flaky => "flaky",
            State::Passed => "passed",
            State::Skipped => "skipped",
            State::Absent => "absent",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The incremental form of [`State::fold`]: four flags, so a million cases fold in place
/// and partial folds (per file, per thread) [`merge`](StateAcc::merge) in any order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateAcc {
    any: bool,
    failed: bool,
    passed: bool,
    passed_after_retries: bool,
}

impl StateAcc {
    pub fn add(&mut self, occurrence: Occurrence) {
        self.any = true;
        match occurrence.outcome {
            Outcome::Failed => self.failed = true,
            Outcome::Passed => {
                self.passed = true;
                self.passed_after_retries |= occurrence.has_retries;
            }
            // Reruns of a skip say nothing about flakiness.
            Outcome::Skipped => {}
        }
    }

    pub fn merge(&mut self, other: StateAcc) {
        self.any |= other.any;
        self.failed |= other.failed;
        self.passed |= other.passed;
        self.passed_after_retries |= other.passed_after_retries;
    }

    pub fn state(&self) -> State {
        if self.passed_after_retries || (self.failed && self.passed) {
            State::Flaky
        } else if self.failed {
            // Failed and skipped elsewhere (e.g. skipped in a re-launch after the crash)
            // is still failing: nothing passed.
            State::Failing
        } else if self.passed {
            State::Passed
        } else if self.any {
            State::Skipped
        } else {
            State::Absent
        }
    }
}

/// How a test in this run (head) compares with the base run. The declaration order is the
/// display order, so sorting by verdict puts what needs attention first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    NewFailure,
    NewTestFailing,
    Flaky,
    StillFailing,
    Missing,
    Fixed,
    NewTest,
    Unchanged,
}

impl Verdict {
    /// Every verdict in display order.
    pub const ALL: [Verdict; 8] = [
        Verdict::NewFailure,
        Verdict::NewTestFailing,
        Verdict::Flaky,
        Verdict::StillFailing,
        Verdict::Missing,
        Verdict::Fixed,
        Verdict::NewTest,
        Verdict::Unchanged,
    ];

    /// The verdict table:
    /// * head failing: base failing → still_failing; base absent → new_test_failing; base
    ///   flaky, passed or skipped → new_failure;
    /// * head flaky → flaky, whatever the base;
    /// * head passed or skipped: base absent → new_test; head passed and base failing →
    ///   fixed; otherwise unchanged;
    /// * head absent: base present → missing; base absent → unchanged.
    pub fn of(head: State, base: State) -> Verdict {
        use State::*;
        match (head, base) {
            (Failing, Failing) => Verdict::StillFailing,
            (Failing, Absent) => Verdict::NewTestFailing,
            (Failing, Flaky | Passed | Skipped) => Verdict::NewFailure,
            (Flaky, _) => Verdict::Flaky,
            (Passed | Skipped, Absent) => Verdict::NewTest,
            (Passed, Failing) => Verdict::Fixed,
            (Passed | Skipped, _) => Verdict::Unchanged,
            (Absent, Absent) => Verdict::Unchanged,
            (Absent, _) => Verdict::Missing,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::NewFailure => "new_failure",
            Verdict::NewTestFailing => "new_test_failing",
            Verdict::Flaky => "flaky",
            Verdict::StillFailing => "still_failing",
            Verdict::Missing => "missing",
            Verdict::Fixed => "fixed",
            Verdict::NewTest => "new_test",
            Verdict::Unchanged => "unchanged",
        }
    }

    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.name() == name)
    }

    /// One sentence naming the rule that gave this verdict for `head` against `base`, e.g.
    /// "fails here and passed in the base run". When `self` is not what [`Verdict::of`]
    /// gives for the pair (a caller overrode it), the sentence describes `self` alone.
    pub fn rule(self, head: State, base: State) -> &'static str {
        use State::*;
        if Verdict::of(head, base) != self {
            return self.generic_rule();
        }
        match (head, base) {
            (Failing, Failing) => "fails here and also failed in the base run",
            (Failing, Flaky) => "fails here and was flaky (failed, then passed) in the base run",
            (Failing, Passed) => "fails here and passed in the base run",
            (Failing, Skipped) => "fails here and was skipped in the base run",
            (Failing, Absent) => "fails here and did not run in the base run",
            (Flaky, _) => "both failed and passed here (a retry or re-launch passed)",
            (Passed, Failing) => "passes here and failed in the base run",
            (Passed, Flaky) => "passes here and was flaky in the base run",
            (Passed, Passed) => "passes here as in the base run",
            (Passed, Skipped) => "passes here and was skipped in the base run",
            (Passed, Absent) => "passes here and did not run in the base run",
            (Skipped, Failing) => "is skipped here and failed in the base run",
            (Skipped, Flaky) => "is skipped here and was flaky in the base run",
            (Skipped, Passed) => "is skipped here and passed in the base run",
            (Skipped, Skipped) => "is skipped here as in the base run",
            (Skipped, Absent) => "is skipped here and did not run in the base run",
            (Absent, Failing) => "did not run here but failed in the base run",
            (Absent, Flaky) => "did not run here but was flaky in the base run",
            (Absent, Passed) => "did not run here but passed in the base run",
            (Absent, Skipped) => "did not run here but was skipped in the base run",
            (Absent, Absent) => "ran in neither run",
        }
    }

    fn generic_rule(self) -> &'static str {
        match self {
            Verdict::NewFailure => "fails here and did not fail in the base run",
            Verdict::NewTestFailing => "fails here and did not run in the base run",
            Verdict::Flaky => "both failed and passed here (a retry or re-launch passed)",
            Verdict::StillFailing => "fails here and also failed in the base run",
            Verdict::Missing => "did not run here but ran in the base run",
            Verdict::Fixed => "passes here and failed in the base run",
            Verdict::NewTest => "ran here and did not run in the base run",
            Verdict::Unchanged => "behaves here as in the base run",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    fn occ(outcome: Outcome, has_retries: bool) -> Occurrence {
        Occurrence {
            outcome,
            has_retries,
        }
    }
    const F: Occurrence = Occurrence {
        outcome: Outcome::Failed,
        has_retries: false,
    };
    const S: Occurrence = Occurrence {
        outcome: Outcome::Skipped,
        has_retries: false,
    };
    const P: Occurrence = Occurrence {
        outcome: Outcome::Passed,
        has_retries: false,
    };

    #[test]
    fn outcome_of_children() {
        assert_eq!(Outcome::of(true, false), Outcome::Failed);
        assert_eq!(Outcome::of(true, true), Outcome::Failed);
        assert_eq!(Outcome::of(false, true), Outcome::Skipped);
        assert_eq!(Outcome::of(false, false), Outcome::Passed);
    }

    #[test]
    fn fold_states() {
        let retried_pass = occ(Outcome::Passed, true);
        let retried_fail = occ(Outcome::Failed, true);
        assert_eq!(State::fold([]), Absent);
        assert_eq!(State::fold([S]), Skipped);
        assert_eq!(State::fold([S, S]), Skipped);
        assert_eq!(State::fold([P]), Passed);
        assert_eq!(State::fold([P, S]), Passed);
        assert_eq!(State::fold([P, P]), Passed);
        assert_eq!(State::fold([F]), Failing);
        assert_eq!(State::fold([F, F]), Failing);
        // The documented choice: failing and skipped, nothing passed, is failing.
        assert_eq!(State::fold([F, S]), Failing);
        assert_eq!(State::fold([S, F]), Failing);
        // All attempts failed (reruns and a failure): failing, not flaky.
        assert_eq!(State::fold([retried_fail]), Failing);
        // Failed in one XML, passed in the re-launch's XML.
        assert_eq!(State::fold([F, P]), Flaky);
        assert_eq!(State::fold([P, F]), Flaky);
        assert_eq!(State::fold([S, F, P]), Flaky);
        // Passed on retry inside one XML.
        assert_eq!(State::fold([retried_pass]), Flaky);
        assert_eq!(State::fold([P, retried_pass]), Flaky);
        // Reruns on a skip mean nothing.
        assert_eq!(State::fold([occ(Outcome::Skipped, true)]), Skipped);
        assert_eq!(State::fold([occ(Outcome::Skipped, true), P]), Passed);
    }

    #[test]
    fn fold_is_order_free_and_merges() {
        let all = [
            F,
            S,
            P,
            occ(Outcome::Passed, true),
            occ(Outcome::Failed, true),
        ];
        // Every subset, folded whole and as two merged halves in both orders.
        for mask in 0u32..(1 << all.len()) {
            let pick: Vec<_> = (0..all.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| all[i])
                .collect();
            let whole = State::fold(pick.iter().copied());
            assert_eq!(State::fold(pick.iter().rev().copied()), whole);
            for cut in 0..=pick.len() {
                let (mut a, mut b) = (StateAcc::default(), StateAcc::default());
                pick[..cut].iter().for_each(|&o| a.add(o));
                pick[cut..].iter().for_each(|&o| b.add(o));
                let mut ab = a;
                ab.merge(b);
                b.merge(a);
                assert_eq!(ab.state(), whole);
                assert_eq!(b.state(), whole);
            }
        }
        assert_eq!(StateAcc::default().state(), Absent);
    }

    #[test]
    fn verdict_table_is_exhaustive() {
        use Verdict as V;
        let expected = [
            // head Failing
            ((Failing, Failing), V::StillFailing),
            ((Failing, Flaky), V::NewFailure),
            ((Failing, Passed), V::NewFailure),
            ((Failing, Skipped), V::NewFailure),
            ((Failing, Absent), V::NewTestFailing),
            // head Flaky
            ((Flaky, Failing), V::Flaky),
            ((Flaky, Flaky), V::Flaky),
            ((Flaky, Passed), V::Flaky),
            ((Flaky, Skipped), V::Flaky),
            ((Flaky, Absent), V::Flaky),
            // head Passed
            ((Passed, Failing), V::Fixed),
            ((Passed, Flaky), V::Unchanged),
            ((Passed, Passed), V::Unchanged),
            ((Passed, Skipped), V::Unchanged),
            ((Passed, Absent), V::NewTest),
            // head Skipped
            ((Skipped, Failing), V::Unchanged),
            ((Skipped, Flaky), V::Unchanged),
            ((Skipped, Passed), V::Unchanged),
            ((Skipped, Skipped), V::Unchanged),
            ((Skipped, Absent), V::NewTest),
            // head Absent
            ((Absent, Failing), V::Missing),
            ((Absent, Flaky), V::Missing),
            ((Absent, Passed), V::Missing),
            ((Absent, Skipped), V::Missing),
            ((Absent, Absent), V::Unchanged),
        ];
        assert_eq!(expected.len(), State::ALL.len() * State::ALL.len());
        for head in State::ALL {
            for base in State::ALL {
                let want = expected
                    .iter()
                    .find(|(pair, _)| *pair == (head, base))
                    .map(|(_, v)| *v)
                    .expect("pair listed");
                assert_eq!(Verdict::of(head, base), want, "{head} vs {base}");
            }
        }
    }

    #[test]
    fn every_pair_has_its_own_sentence() {
        let mut seen = std::collections::HashSet::new();
        for head in State::ALL {
            for base in State::ALL {
                let v = Verdict::of(head, base);
                let s = v.rule(head, base);
                assert!(!s.is_empty() && !s.ends_with('.'), "{s:?}");
                // Flaky ignores the base, so its five pairs share one sentence.
                if head != Flaky || base == Failing {
                    assert!(seen.insert(s), "duplicate sentence {s:?}");
                }
            }
        }
        assert_eq!(
            Verdict::NewFailure.rule(Failing, Passed),
            "fails here and passed in the base run"
        );
        // An overridden verdict is described on its own terms.
        assert_eq!(
            Verdict::Unchanged.rule(Failing, Passed),
            "behaves here as in the base run"
        );
        for v in Verdict::ALL {
            assert!(!v.generic_rule().is_empty());
        }
    }

    #[test]
    fn names_round_trip_in_display_order() {
        let names: Vec<_> = Verdict::ALL.iter().map(|v| v.name()).collect();
        assert_eq!(
            names,
            [
                "new_failure",
                "new_test_failing",
                "flaky",
                "still_failing",
                "missing",
                "fixed",
                "new_test",
                "unchanged"
            ]
        );
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_name(v.name()), Some(v));
            assert_eq!(v.to_string(), v.name());
        }
        assert_eq!(Verdict::from_name("NEW_FAILURE"), None);
        assert_eq!(Verdict::from_name(""), None);
        let mut sorted = Verdict::ALL;
        sorted.reverse();
        sorted.sort();
        assert_eq!(sorted, Verdict::ALL);

        for s in State::ALL {
            assert_eq!(State::from_name(s.name()), Some(s));
            assert_eq!(s.to_string(), s.name());
        }
        assert_eq!(
            State::ALL.map(State::name),
            ["failing", "flaky", "passed", "skipped", "absent"]
        );
        assert_eq!(State::from_name("gone"), None);
    }
}
