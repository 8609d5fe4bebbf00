//! `HEAPSIGHT_FRAME_TIMES=1`: how long building each frame took, printed in batches.

/// Frame-building times (`ui` only, not the GPU), and the time between frames.
pub struct FrameTimes {
    build_ms: Vec<f64>,
    interval_ms: Vec<f64>,
    last: Option<std::time::Instant>,
}

impl FrameTimes {
    /// Kept when `HEAPSIGHT_FRAME_TIMES` is set.
    pub fn from_env() -> Option<FrameTimes> {
        std::env::var_os("HEAPSIGHT_FRAME_TIMES").map(|_| FrameTimes {
            build_ms: Vec::new(),
            interval_ms: Vec::new(),
            last: None,
        })
    }

    /// Notes a frame whose building started at `started`; prints percentiles every 120.
    pub fn record(&mut self, started: std::time::Instant) {
        self.build_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        if let Some(last) = self.last {
            self.interval_ms
                .push(started.duration_since(last).as_secs_f64() * 1000.0);
        }
        self.last = Some(started);
        if self.build_ms.len() >= 120 {
            let stats = |v: &mut Vec<f64>| {
                v.sort_by(|a, b| a.total_cmp(b));
                let at = |q: f64| {
                    v.get(((v.len() - 1) as f64 * q) as usize)
                        .copied()
                        .unwrap_or(0.0)
                };
                format!(
                    "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                    at(0.5),
                    at(0.95),
                    at(1.0)
                )
            };
            eprintln!(
                "[frames] build {}; between frames {}",
                stats(&mut self.build_ms),
                stats(&mut self.interval_ms)
            );
            self.build_ms.clear();
            self.interval_ms.clear();
        }
    }
}
