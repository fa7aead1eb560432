//! One row per figure, printed as the Markdown table of BENCHMARKS.md.

/// One measured figure.
pub struct Row {
    /// What is measured.
    pub figure: String,
    /// meetkit's figure, with its unit.
    pub meetkit: String,
    /// The baseline and its figure, or a note.
    pub baseline: String,
    /// meetkit relative to the baseline (> 1: meetkit is faster).
    pub ratio: Option<f64>,
    /// The target, as written in the issue.
    pub target: String,
    /// Whether the target is met (`None`: no target).
    pub met: Option<bool>,
}

impl Row {
    /// Two throughputs (higher is better) and the lowest acceptable ratio.
    pub fn rates(figure: impl Into<String>, meetkit: f64, baseline_name: &str, baseline: f64, target: f64) -> Row {
        let ratio = meetkit / baseline;
        Row {
            figure: figure.into(),
            meetkit: format!("{meetkit:.0} calls/s"),
            baseline: format!("{baseline_name}: {baseline:.0} calls/s"),
            ratio: Some(ratio),
            target: if target > 0.0 { format!("≥ {target:.2}×") } else { "—".into() },
            met: (target > 0.0).then_some(ratio >= target),
        }
    }

    /// A figure without a baseline.
    pub fn info(figure: impl Into<String>, meetkit: impl Into<String>, note: impl Into<String>) -> Row {
        Row {
            figure: figure.into(),
            meetkit: meetkit.into(),
            baseline: note.into(),
            ratio: None,
            target: "—".into(),
            met: None,
        }
    }

    /// A figure with an absolute target.
    pub fn with_target(mut self, target: impl Into<String>, met: bool) -> Row {
        self.target = target.into();
        self.met = Some(met);
        self
    }
}

/// The Markdown table of `rows`.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| figure | meetkit | baseline | ratio | target | met |\n|---|---|---|---|---|---|\n");
    for r in rows {
        let ratio = r.ratio.map_or("—".to_string(), |x| format!("{x:.2}×"));
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        out.push_str(&format!("| {} | {} | {} | {ratio} | {} | {met} |\n", r.figure, r.meetkit, r.baseline, r.target));
    }
    out
}

/// The median (meetkit, baseline) results over `rounds` rounds, each running both sides back
/// to back (higher is better). Short alternating rounds see the same machine conditions on
/// both sides, and the median ignores the rounds a neighbour disturbed.
pub async fn median_of<F, Fut>(rounds: usize, round: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (f64, f64)>,
{
    let (mut m, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let (rm, rb) = round().await;
        m.push(rm);
        b.push(rb);
    }
    (median(&mut m), median(&mut b))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}
