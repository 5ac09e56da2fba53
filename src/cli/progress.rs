//! Progress on stderr: one bar for the runs (done / total, reused ones included), one line per
//! run in progress showing its simulated time, and log lines printed above the bars. The bars
//! are drawn only when stderr is a terminal; log lines are always printed.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim_core::SimTime;

/// The bars of one command, shared by the worker threads.
pub(crate) struct Progress {
    /// `None` when stderr is not a terminal: nothing is drawn.
    multi: Option<MultiProgress>,
    runs: ProgressBar,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Progress {
    /// Bars for `total` runs, drawn only if stderr is a terminal.
    pub(crate) fn new(total: u64) -> Self {
        Self::with_terminal(total, std::io::stderr().is_terminal())
    }

    /// Bars for `total` runs, drawn if `draw`.
    pub(crate) fn with_terminal(total: u64, draw: bool) -> Self {
        if !draw {
            return Progress {
                multi: None,
                runs: ProgressBar::hidden(),
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let runs = multi.add(ProgressBar::new(total)).with_style(style(
            "{spinner} [{elapsed_precise}] [{bar:40}] {pos}/{len} runs {msg}",
        ));
        runs.enable_steady_tick(Duration::from_millis(200));
        Progress {
            multi: Some(multi),
            runs,
        }
    }

    /// Prints a log line above the bars (or plainly when they are not drawn).
    pub(crate) fn log(&self, line: &str) {
        match &self.multi {
            Some(multi) if multi.println(line).is_ok() => {}
            _ => errln!("{line}"),
        }
    }

    /// Counts one more run as done (executed or reused).
    pub(crate) fn run_done(&self) {
        self.runs.inc(1);
    }

    /// A line for one run in progress, removed when dropped.
    pub(crate) fn run_bar(&self, label: &str) -> RunBar {
        let Some(multi) = &self.multi else {
            return RunBar {
                bar: ProgressBar::hidden(),
                multi: None,
                label: String::new(),
            };
        };
        let bar = multi
            .add(ProgressBar::new(1))
            .with_style(style("  [{bar:30}] {msg}"));
        bar.set_message(format!("{label} starting"));
        RunBar {
            bar,
            multi: Some(multi.clone()),
            label: label.to_string(),
        }
    }

    /// Clears the bars.
    pub(crate) fn finish(&self) {
        self.runs.finish_and_clear();
        if let Some(multi) = &self.multi {
            // Nothing to do if the terminal went away.
            let _ = multi.clear();
        }
    }
}

/// The progress line of one run in progress.
pub(crate) struct RunBar {
    bar: ProgressBar,
    multi: Option<MultiProgress>,
    label: String,
}

impl RunBar {
    /// The run reached simulated time `now` of `end`.
    pub(crate) fn update(&self, now: SimTime, end: SimTime) {
        if self.multi.is_none() {
            return;
        }
        self.bar.set_length(end.as_nanos() / 1_000_000);
        self.bar.set_position(now.as_nanos() / 1_000_000);
        self.bar
            .set_message(format!("{} {now} of {}", self.label, end.since_start()));
    }
}

impl Drop for RunBar {
    fn drop(&mut self) {
        if let Some(multi) = &self.multi {
            self.bar.finish_and_clear();
            multi.remove(&self.bar);
        }
    }
}
