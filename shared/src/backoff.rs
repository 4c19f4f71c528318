//! Exponential backoff with full jitter, shared by the widget's reconnects and the edge's
//! relay retries. Pure: the caller supplies the random fraction.

/// Delay before retry number `attempt` (0 = first retry): a uniformly random point in
/// `[base/2, min(cap, base·2^attempt)]`, where `jitter ∈ [0, 1)`. Never less than half the
/// base, so a flapping link cannot spin.
pub fn delay_ms(attempt: u32, base_ms: u64, cap_ms: u64, jitter: f64) -> u64 {
    let ceiling = base_ms
        .saturating_mul(1u64 << attempt.min(32))
        .min(cap_ms)
        .max(base_ms / 2);
    let floor = base_ms / 2;
    let jitter = jitter.clamp(0.0, 1.0);
    floor + ((ceiling - floor) as f64 * jitter) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let top: Vec<u64> = (0..8).map(|a| delay_ms(a, 500, 30_000, 1.0)).collect();
        assert_eq!(top, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert!((0..8).all(|a| delay_ms(a, 500, 30_000, 0.0) == 250));
        assert_eq!(
            delay_ms(1000, 500, 30_000, 1.0),
            30_000,
            "huge attempts do not overflow"
        );
        let mid = delay_ms(3, 500, 30_000, 0.5);
        assert!(mid > 250 && mid < 4000);
    }
}
