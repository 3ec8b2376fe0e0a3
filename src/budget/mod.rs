//! What one request may cost, what it is expected to cost, and a guard that
//! stops it when it costs more.
//!
//! The filter runs on the proxy's worker thread, inside a VM whose linear
//! memory has a ceiling (Envoy/V8: 1 GiB; nginx/wasmtime: the 4 GiB of a
//! wasm32 address space), so every request gets a [`Budget`]: the peak memory
//! its processing may use and the time it may hold the worker.
//!
//! - Before a pixel is decoded the pipeline lists the [`Stage`]s of its plan
//!   (which decoder and path, each operation, the encoder) and [`estimate`]s
//!   their memory and time from the calibrated [`model`]. A request whose
//!   estimate exceeds its budget is refused at once with `400 ImageTooLarge`
//!   naming the costliest stage ([`Estimate::check`]).
//! - While it runs, a [`Guard`] checks elapsed time and the memory really
//!   allocated ([`meter`]) between stages (and between animation frames), and
//!   gives up with `400 ImageTooLarge` when either is past the budget.
//!
//! This module imports nothing of the crate but [`crate::error`]: the
//! pipeline maps its plan onto [`Work`] kinds, the model knows only those.

pub mod meter;
pub(crate) mod model;

use crate::error::{ProcessError, Result};
pub(crate) use model::Work;
use serde::Deserialize;
use std::time::Instant;

/// MiB, in bytes.
const MIB: u64 = 1 << 20;

/// The most one request's processing may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    /// Peak memory the processing may allocate above what the VM held before
    /// it, in bytes (16 MiB – 3 GiB; default 512 MiB, half of Envoy's 1 GiB VM
    /// ceiling, leaving room for the buffered body, allocator fragmentation
    /// and the other requests of the worker).
    pub memory_bytes: u64,
    /// Longest time the processing may hold the proxy's worker, in
    /// milliseconds (50 – 60 000; default 10 000, which admits a 1920×1080
    /// HEIC result: the pure-Rust HEVC encoder takes about 4 µs per px).
    pub time_ms: u64,
}

/// Smallest [`Budget::memory_bytes`] a configuration may set.
pub(crate) const MIN_MEMORY_BYTES: u64 = 16 * MIB;
/// Largest [`Budget::memory_bytes`]: below wasm32's 4 GiB address space.
pub(crate) const MAX_MEMORY_BYTES: u64 = 3 * 1024 * MIB;
/// Smallest [`Budget::time_ms`].
pub(crate) const MIN_TIME_MS: u64 = 50;
/// Largest [`Budget::time_ms`].
pub(crate) const MAX_TIME_MS: u64 = 60_000;

impl Budget {
    /// The default budget: 512 MiB and 10 s.
    pub const DEFAULT: Budget = Budget {
        memory_bytes: 512 * MIB,
        time_ms: 10_000,
    };

    /// No limit at all (tests that measure, never the filter).
    #[cfg(test)]
    pub(crate) const UNLIMITED: Budget = Budget {
        memory_bytes: u64::MAX,
        time_ms: u64::MAX,
    };

    /// Checks the ranges above; the error names the key.
    pub(crate) fn validate(&self) -> std::result::Result<(), String> {
        if !(MIN_MEMORY_BYTES..=MAX_MEMORY_BYTES).contains(&self.memory_bytes) {
            return Err(format!(
                "memory_bytes must be {MIN_MEMORY_BYTES}-{MAX_MEMORY_BYTES}, got {}",
                self.memory_bytes
            ));
        }
        if !(MIN_TIME_MS..=MAX_TIME_MS).contains(&self.time_ms) {
            return Err(format!(
                "time_ms must be {MIN_TIME_MS}-{MAX_TIME_MS}, got {}",
                self.time_ms
            ));
        }
        Ok(())
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::DEFAULT
    }
}

/// One stage of a planned pipeline: what runs and on how many pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stage {
    pub(crate) work: Work,
    /// What it is, for messages ("decoding the 14000x14000 px heic image").
    pub(crate) what: String,
    /// Pixels the time rate applies to (see [`Work`] for which).
    pub(crate) time_px: u64,
    /// Pixels the memory rate applies to.
    pub(crate) memory_px: u64,
    /// Bytes held while it runs besides its own (the body, the image it
    /// reads), by [`estimate`].
    pub(crate) carried_bytes: u64,
    /// What it costs besides its own work (a watermark's image, decoded
    /// for it): bytes at its peak and ms.
    pub(crate) extra: (u64, f64),
}

impl Stage {
    /// A stage whose time and memory both scale with `px`.
    pub(crate) fn new(work: Work, what: impl Into<String>, px: u64) -> Stage {
        Stage {
            work,
            what: what.into(),
            time_px: px,
            memory_px: px,
            carried_bytes: 0,
            extra: (0, 0.0),
        }
    }

    /// The same stage with its time scaling with `px` instead.
    pub(crate) fn timed_by(mut self, px: u64) -> Stage {
        self.time_px = px;
        self
    }

    /// The same stage, holding `bytes` of earlier results while it runs.
    pub(crate) fn carrying(mut self, bytes: u64) -> Stage {
        self.carried_bytes = bytes;
        self
    }

    /// Bytes this stage allocates at its peak, its result included.
    pub(crate) fn memory_bytes(&self) -> u64 {
        let rate = self.work.rate();
        (rate.bytes_per_px * self.memory_px as f64) as u64 + rate.fixed_bytes + self.extra.0
    }

    /// Milliseconds this stage takes in the wasm build.
    pub(crate) fn time_ms(&self) -> f64 {
        self.work.rate().ns_per_px * self.time_px as f64 / 1e6 + self.extra.1
    }
}

/// What a plan is expected to cost, from its stages.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Expected peak of allocated bytes, the body included.
    pub peak_bytes: u64,
    /// Expected processing time in the wasm build, in ms.
    pub time_ms: f64,
    /// The stage whose peak is the plan's peak.
    pub(crate) heaviest: String,
    /// The stage that takes longest.
    pub(crate) slowest: String,
}

/// Estimates the cost of `stages`, run in order while `body_bytes` of
/// source are held.
pub(crate) fn estimate(body_bytes: u64, stages: &[Stage]) -> Estimate {
    let mut peak = (body_bytes, String::from("holding the body"));
    let mut slowest = (0.0f64, String::new());
    let mut total_ms = 0.0;
    for stage in stages {
        let bytes = body_bytes + stage.carried_bytes + stage.memory_bytes();
        if bytes > peak.0 {
            peak = (bytes, stage.what.clone());
        }
        let ms = stage.time_ms();
        total_ms += ms;
        if ms > slowest.0 {
            slowest = (ms, stage.what.clone());
        }
    }
    Estimate {
        peak_bytes: peak.0,
        time_ms: total_ms,
        heaviest: peak.1,
        slowest: slowest.1,
    }
}

/// `bytes` for a message: "1.9 GiB", "640 MiB".
pub(crate) fn show_bytes(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
    } else {
        format!("{} MiB", bytes.div_ceil(MIB))
    }
}

/// `ms` for a message: "21 s", "1.5 s", "640 ms".
pub(crate) fn show_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

impl Estimate {
    /// `Ok` when the estimate fits `budget`; else `400 ImageTooLarge` naming
    /// what is too large and what the budget allows.
    pub(crate) fn check(&self, budget: &Budget) -> Result<()> {
        if self.peak_bytes > budget.memory_bytes {
            return Err(ProcessError::too_large(format!(
                "{} would need about {} of memory, this proxy allows {} per request",
                self.heaviest,
                show_bytes(self.peak_bytes),
                show_bytes(budget.memory_bytes)
            )));
        }
        if self.time_ms > budget.time_ms as f64 {
            return Err(ProcessError::too_large(format!(
                "processing would take about {} (the longest stage: {}), this proxy allows {} per request",
                show_ms(self.time_ms),
                self.slowest,
                show_ms(budget.time_ms as f64)
            )));
        }
        Ok(())
    }
}

/// One stage as it really ran.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StageRun {
    pub(crate) work: Work,
    /// Pixels its time and memory scale with, as planned.
    pub(crate) time_px: u64,
    pub(crate) memory_px: u64,
    /// Wall time, in ms.
    pub(crate) ms: f64,
    /// Most bytes allocated during it above what was live when it began
    /// (0 without the [`meter`]).
    pub(crate) peak_bytes: u64,
}

/// What processing really cost, next to its estimate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostReport {
    pub estimate: Option<Estimate>,
    /// Whole processing time, in ms.
    pub(crate) elapsed_ms: f64,
    /// Most bytes allocated above the baseline at the start (0 without the meter).
    pub(crate) peak_bytes: u64,
    pub(crate) stages: Vec<StageRun>,
    /// Refused before decoding because the estimate exceeded the budget.
    pub(crate) refused: bool,
    /// Stopped while running because it went past the budget.
    pub(crate) stopped: bool,
}

impl CostReport {
    /// Whether it ran well past its estimate (over twice the time and 50 ms
    /// more, or over 1.5× the memory and 8 MiB more): the model needs
    /// recalibrating for such an image.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn overran(&self) -> bool {
        let Some(e) = &self.estimate else {
            return false;
        };
        let slow = self.elapsed_ms > 2.0 * e.time_ms + 50.0;
        let big = self.peak_bytes as f64 > 1.5 * e.peak_bytes as f64 + (8 * MIB) as f64;
        slow || big
    }

    /// One log line: estimate against what happened, stage by stage
    /// (`cargo xtask calibrate` reads these).
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn log_line(&self) -> String {
        let mut line = String::from("cost:");
        if let Some(e) = &self.estimate {
            line.push_str(&format!(" estimate={:.1}ms/{}B", e.time_ms, e.peak_bytes));
        }
        line.push_str(&format!(
            " actual={:.1}ms/{}B",
            self.elapsed_ms, self.peak_bytes
        ));
        for s in &self.stages {
            line.push_str(&format!(
                " {}:{}:{}:{:.2}ms:{}B",
                s.work.key(),
                s.time_px,
                s.memory_px,
                s.ms,
                s.peak_bytes
            ));
        }
        if self.refused {
            line.push_str(" refused");
        }
        if self.stopped {
            line.push_str(" stopped");
        }
        line
    }
}

/// Watches one request's processing against its budget.
#[derive(Debug)]
pub(crate) struct Guard {
    budget: Budget,
    started: Instant,
    baseline: usize,
    stage_started: Instant,
    stage_baseline: usize,
    report: CostReport,
}

impl Guard {
    /// Starts watching now, with what is live now as the memory baseline.
    pub(crate) fn start(budget: Budget) -> Guard {
        let baseline = meter::start();
        let now = Instant::now();
        Guard {
            budget,
            started: now,
            baseline,
            stage_started: now,
            stage_baseline: baseline,
            report: CostReport::default(),
        }
    }

    /// Checks the plan's estimate; a refusal is recorded.
    pub(crate) fn admit(&mut self, estimate: Estimate) -> Result<()> {
        let verdict = estimate.check(&self.budget);
        self.report.refused = verdict.is_err();
        self.report.estimate = Some(estimate);
        verdict
    }

    /// Checks one more stage that the estimate did not count (a decoder's
    /// fallback path), run while `body_bytes` are held: it must fit the
    /// memory budget and the time left.
    pub(crate) fn admit_more(&mut self, stage: &Stage, body_bytes: u64) -> Result<()> {
        let elapsed = self.started.elapsed().as_secs_f64() * 1000.0;
        let left = Budget {
            time_ms: self.budget.time_ms.saturating_sub(elapsed as u64),
            ..self.budget
        };
        let verdict = estimate(body_bytes, std::slice::from_ref(stage)).check(&left);
        if verdict.is_err() {
            self.report.refused = true;
        }
        verdict
    }

    /// A stage begins.
    pub(crate) fn begin(&mut self) {
        self.stage_started = Instant::now();
        self.stage_baseline = meter::live();
        meter::start();
    }

    /// The stage that [`Guard::begin`] started has ended: records it and
    /// checks the budget.
    pub(crate) fn end(&mut self, stage: &Stage) -> Result<()> {
        let peak = meter::peak().saturating_sub(self.stage_baseline) as u64;
        self.report.stages.push(StageRun {
            work: stage.work,
            time_px: stage.time_px,
            memory_px: stage.memory_px,
            ms: self.stage_started.elapsed().as_secs_f64() * 1000.0,
            peak_bytes: peak,
        });
        let whole = (self.stage_baseline.saturating_sub(self.baseline) as u64) + peak;
        self.report.peak_bytes = self.report.peak_bytes.max(whole);
        self.check(&stage.what)
    }

    /// Checks elapsed time and memory against the budget; past it, the
    /// request is stopped with `400 ImageTooLarge`.
    pub(crate) fn check(&mut self, after: &str) -> Result<()> {
        let elapsed = self.started.elapsed().as_secs_f64() * 1000.0;
        let live = meter::live().saturating_sub(self.baseline) as u64;
        self.report.peak_bytes = self.report.peak_bytes.max(live);
        if elapsed > self.budget.time_ms as f64 {
            self.report.stopped = true;
            return Err(ProcessError::too_large(format!(
                "processing was stopped after {} ({after}), this proxy allows {} per request",
                show_ms(elapsed),
                show_ms(self.budget.time_ms as f64)
            )));
        }
        if self.report.peak_bytes > self.budget.memory_bytes {
            self.report.stopped = true;
            return Err(ProcessError::too_large(format!(
                "processing was stopped after using {} of memory ({after}), this proxy allows {} per request",
                show_bytes(self.report.peak_bytes),
                show_bytes(self.budget.memory_bytes)
            )));
        }
        Ok(())
    }

    /// Ends the watch and returns what it saw.
    pub(crate) fn finish(mut self) -> CostReport {
        self.report.elapsed_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let peak = meter::peak().saturating_sub(self.baseline) as u64;
        self.report.peak_bytes = self.report.peak_bytes.max(peak);
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_is_valid_and_ranges_name_their_key() {
        assert_eq!(Budget::DEFAULT.validate(), Ok(()));
        let small = Budget {
            memory_bytes: 1,
            ..Budget::DEFAULT
        };
        assert!(small.validate().unwrap_err().starts_with("memory_bytes"));
        let long = Budget {
            time_ms: 600_000,
            ..Budget::DEFAULT
        };
        assert!(long.validate().unwrap_err().starts_with("time_ms"));
    }

    #[test]
    fn an_estimate_over_the_budget_names_the_costliest_stage() {
        let stages = [
            Stage::new(
                Work::DecodeHeic,
                "decoding the 14000x14000 px heic image",
                196_000_000,
            ),
            Stage::new(Work::Resize, "resize", 40_000),
        ];
        let e = estimate(3 << 20, &stages);
        assert!(e.peak_bytes > Budget::DEFAULT.memory_bytes);
        let err = e.check(&Budget::DEFAULT).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::ImageTooLarge);
        assert!(
            err.message
                .starts_with("decoding the 14000x14000 px heic image would need about"),
            "{}",
            err.message
        );
        assert!(err
            .message
            .ends_with("this proxy allows 512 MiB per request"));
        // Within memory, over time: the time is named.
        let roomy = Budget {
            memory_bytes: MAX_MEMORY_BYTES,
            time_ms: 50,
        };
        let heic = [Stage::new(
            Work::DecodeHeic,
            "decoding the 6000x6000 px heic image",
            36_000_000,
        )];
        let err = estimate(3 << 20, &heic).check(&roomy).unwrap_err();
        assert!(
            err.message.starts_with("processing would take about"),
            "{}",
            err.message
        );
        assert!(err.message.contains("heic"));
        // A small image fits.
        let small = estimate(
            100_000,
            &[Stage::new(Work::DecodeJpegBaseline, "x", 1_000_000)],
        );
        assert_eq!(small.check(&Budget::DEFAULT), Ok(()));
    }

    #[test]
    fn the_guard_stops_a_request_past_its_memory_budget_and_reports_it() {
        let mut guard = Guard::start(Budget {
            memory_bytes: MIN_MEMORY_BYTES,
            time_ms: MAX_TIME_MS,
        });
        guard.begin();
        let big = vec![7u8; (MIN_MEMORY_BYTES + MIB) as usize];
        let stage = Stage::new(Work::Resize, "resize", 1);
        let err = guard.end(&stage).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::ImageTooLarge);
        assert!(
            err.message.contains("stopped after using 18 MiB"),
            "{}",
            err.message
        );
        drop(big);
        let report = guard.finish();
        assert!(report.stopped);
        assert!(report.peak_bytes >= MIN_MEMORY_BYTES + MIB);
        assert_eq!(report.stages.len(), 1);
        assert!(
            report.log_line().contains(" resize:1:1:"),
            "{}",
            report.log_line()
        );
    }

    #[test]
    fn the_guard_stops_a_request_past_its_time_budget() {
        let mut guard = Guard::start(Budget {
            memory_bytes: MAX_MEMORY_BYTES,
            time_ms: MIN_TIME_MS,
        });
        std::thread::sleep(std::time::Duration::from_millis(MIN_TIME_MS + 10));
        let err = guard.check("decoding").unwrap_err();
        assert!(
            err.message.starts_with("processing was stopped after"),
            "{}",
            err.message
        );
        assert!(guard.finish().stopped);
    }
}
