//! Triage: what a developer asks of a loaded run beyond its uploads. Which failures a change
//! caused against a base run ([`compare`], with [`verdict`], [`identity`] and [`disabled`]),
//! which failures share one root cause ([`clusters`], from [`signature`]), how to rerun
//! each ([`repro`]), and every attempt of a case whatever the retry dialect ([`attempts`]).
//!
//! It reads the loaded run and feeds both front-ends; nothing here changes what is uploaded.

pub mod attempts;
pub mod clusters;
pub mod compare;
pub mod disabled;
pub mod identity;
pub mod repro;
pub mod signature;
pub mod summary;
pub mod verdict;

use crate::py::Value;
use crate::report::{Enrichment, Object};
use crate::run::{BriefTriage, CaseBrief, display_value};
use crate::stats::CaseStatus;

/// The failure or error child a failing case's signature and repro come from: the first
/// `failure`, else the first `error` (of a list, the last: the final attempt's).
pub fn failing_child(case: &Object) -> Option<&Object> {
    ["failure", "error"]
        .iter()
        .find_map(|k| match case.get(k)? {
            Value::List(items) => items.iter().rev().find_map(Value::as_object),
            Value::Object(o) => Some(o),
            _ => None,
        })
}

/// A child's attribute or text as a string ("" when absent).
pub fn child_text<'a>(child: &'a Object, key: &str) -> std::borrow::Cow<'a, str> {
    match child.get(key) {
        Some(Value::Str(s)) => std::borrow::Cow::Borrowed(s.as_str()),
        Some(other) => std::borrow::Cow::Owned(display_value(other)),
        None => std::borrow::Cow::Borrowed(""),
    }
}

/// `opts` asking the load for what triage needs of a run: signatures and repro commands of
/// its failing cases, and briefs of the tests it skipped as disabled.
pub fn load_options(opts: crate::load::LoadOptions) -> crate::load::LoadOptions {
    crate::load::LoadOptions {
        brief_hook: Some(annotate_brief),
        keep_skipped: Some(disabled::is_disabled_skip),
        ..opts
    }
}

/// The load's brief hook (see `LoadOptions::brief_hook`): a failing case's signature and
/// repro, computed on the worker that parsed it, while its whole document is at hand.
pub fn annotate_brief(case: &Object, enrichment: &Enrichment, brief: &mut CaseBrief) {
    if !matches!(brief.status, CaseStatus::Failure | CaseStatus::Error) {
        return;
    }
    let Some(child) = failing_child(case) else {
        return;
    };
    let (kind, message, text) = (
        child_text(child, "type"),
        child_text(child, "message"),
        child_text(child, "text"),
    );
    let sig = signature::signature(&kind, &message, &text);
    let file = (!brief.file.is_empty()).then_some(brief.file.as_str());
    let invoking =
        (!enrichment.invoking_file.is_empty()).then_some(enrichment.invoking_file.as_str());
    let r = repro::repro_for(
        &[&message, &text],
        file,
        &brief.classname,
        &brief.name,
        invoking,
    );
    brief.triage = Some(Box::new(BriefTriage {
        signature: sig,
        repro: r.command,
        repro_in_report: r.source == repro::ReproSource::Report,
    }));
}
