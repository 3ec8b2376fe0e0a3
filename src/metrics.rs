//! The filter's metrics, host-free: names and kinds. The glue defines them
//! through the host (`proxy_define_metric`); Envoy shows them as
//! `wasmcustom.<name>` in `/stats` and `/stats/prometheus`.
//!
//! Names are dotted so one `stats_tags` rule can turn the last part into a tag
//! (docs/metrics.md).

use crate::auth::RefusalReason;

/// What a metric counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Responses replaced by a processed image (or `info`/`detect` JSON).
    Processed,
    /// Requests the filter left alone: no command, not a read, or a response
    /// that is not processable (status, type, size, encoding).
    PassedThrough,
    /// Requests answered at once with a 4xx/5xx for a bad command.
    Rejected,
    /// Conditional requests answered 304 from the upstream ETag, without processing.
    NotModified,
    /// Processing that failed on the body (an error status, or the original
    /// kept in `early` mode).
    Failed,
    /// Requests refused by the signature check or the protection, by reason.
    Refused(RefusalReason),
    /// Bytes of upstream bodies that were processed.
    BytesIn,
    /// Bytes of the processed bodies sent instead.
    BytesOut,
    /// Processing time per request, in milliseconds (histogram).
    ProcessingMs,
    /// Watermark images and fonts served from the shared cache without asking the storage.
    ObjectCacheHits,
    /// Watermark images and fonts asked from the storage (new, or revalidated).
    ObjectFetches,
    /// Results written to the storage by `system/load` / `system/save`.
    PersistenceSaved,
    /// Persistence requests that were admitted but wrote nothing: the source
    /// could not be read, processing failed, or the storage refused the PUT.
    PersistenceFailed,
    /// Requests refused before decoding because their estimated cost
    /// exceeded the budget ([`crate::budget`]).
    BudgetRefused,
    /// Requests stopped while running because they went past the budget.
    BudgetStopped,
    /// Requests that ran well past their estimate (over twice its time or
    /// 1.5× its memory): a sign the cost model needs recalibrating.
    OverEstimate,
    /// Processed requests whose image was partly decoded while its body was
    /// still arriving ([`crate::pipeline::Intake`]).
    DecodedWhileArriving,
}

/// How the host aggregates a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
}

/// The common prefix of every name.
pub const PREFIX: &str = "image_process_filter";

impl Metric {
    /// Every metric, in a fixed order (the glue stores ids in this order).
    pub fn all() -> Vec<Metric> {
        let mut all = vec![
            Metric::Processed,
            Metric::PassedThrough,
            Metric::Rejected,
            Metric::Failed,
            Metric::NotModified,
        ];
        all.extend(RefusalReason::ALL.into_iter().map(Metric::Refused));
        all.extend([
            Metric::BytesIn,
            Metric::BytesOut,
            Metric::ProcessingMs,
            Metric::ObjectCacheHits,
            Metric::ObjectFetches,
            Metric::PersistenceSaved,
            Metric::PersistenceFailed,
            Metric::BudgetRefused,
            Metric::BudgetStopped,
            Metric::OverEstimate,
            Metric::DecodedWhileArriving,
        ]);
        all
    }

    /// The metric's position in [`Metric::all`].
    pub fn index(self) -> usize {
        Metric::all().iter().position(|m| *m == self).unwrap_or(0)
    }

    /// `image_process_filter.<...>`.
    pub fn name(self) -> String {
        let tail = match self {
            Metric::Processed => "requests.processed".to_string(),
            Metric::PassedThrough => "requests.passed_through".to_string(),
            Metric::Rejected => "requests.rejected".to_string(),
            Metric::Failed => "requests.failed".to_string(),
            Metric::NotModified => "requests.not_modified".to_string(),
            Metric::Refused(reason) => format!("refused.{}", reason.as_str()),
            Metric::BytesIn => "bytes.in".to_string(),
            Metric::BytesOut => "bytes.out".to_string(),
            Metric::ProcessingMs => "processing_ms".to_string(),
            Metric::ObjectCacheHits => "objects.cache_hits".to_string(),
            Metric::ObjectFetches => "objects.fetches".to_string(),
            Metric::PersistenceSaved => "persistence.saved".to_string(),
            Metric::PersistenceFailed => "persistence.failed".to_string(),
            Metric::BudgetRefused => "budget.refused".to_string(),
            Metric::BudgetStopped => "budget.stopped".to_string(),
            Metric::OverEstimate => "budget.over_estimate".to_string(),
            Metric::DecodedWhileArriving => "decoded_while_arriving".to_string(),
        };
        format!("{PREFIX}.{tail}")
    }

    pub fn kind(self) -> Kind {
        match self {
            Metric::ProcessingMs => Kind::Histogram,
            _ => Kind::Counter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_indexed() {
        let all = Metric::all();
        let mut names: Vec<String> = all.iter().map(|m| m.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for (i, m) in all.iter().enumerate() {
            assert_eq!(m.index(), i);
        }
        assert_eq!(
            Metric::Refused(RefusalReason::StyleOnly).name(),
            "image_process_filter.refused.style_only"
        );
        assert_eq!(Metric::ProcessingMs.kind(), Kind::Histogram);
        assert_eq!(
            Metric::PersistenceSaved.name(),
            "image_process_filter.persistence.saved"
        );
    }
}
