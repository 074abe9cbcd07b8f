//! Observability: Prometheus metrics ([`names`], recorded through the
//! `metrics` facade everywhere in the code, rendered by [`render`] for
//! `GET /metrics`, which [`crate::http::metrics`] serves), the push
//! outcomes ([`push`]) and the scrape-time backlog gauges ([`backlog`]).
//! The request id and span of every HTTP request are
//! [`crate::http::request`]'s.
//!
//! The recorder is process-global and installed once ([`install`]):
//! `App::start` installs it; before that (and in processes that never
//! serve, such as `callhook import`) every `metrics::counter!` is a no-op.

pub mod backlog;
pub mod escape;
pub mod names;
pub mod push;
pub mod unknown_values;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// How often histogram samples are folded into their buckets when nobody
/// scrapes (each sample is held in memory until then).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder as the process's `metrics` recorder
/// (once; later calls return the same handle) and starts its upkeep
/// thread. Returns the handle `/metrics` renders.
///
/// If another recorder was installed first (an embedding program's), it
/// stays, a warning is logged, and the handle renders nothing.
pub fn install() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        match metrics::set_global_recorder(recorder) {
            Ok(()) => names::describe(),
            Err(e) => tracing::warn!(error = %e, "a metrics recorder was already installed; /metrics will be empty"),
        }
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "metrics upkeep thread not started; histograms are folded at each scrape only");
        }
        handle
    })
}

/// Every metric in the Prometheus text format (0.0.4), from the
/// installed recorder ([`install`]ing it first if need be).
pub fn render() -> String {
    install().render()
}

/// The exporter: explicit buckets for every histogram, so each is a
/// Prometheus histogram (aggregatable across instances), not a summary.
fn builder() -> PrometheusBuilder {
    let buckets = [
        (names::PUSH_ACK_SECONDS, names::SECONDS_BUCKETS),
        (names::STORE_COMMIT_SECONDS, names::SECONDS_BUCKETS),
        (names::PROJECTION_BATCH_SECONDS, names::SECONDS_BUCKETS),
        (names::STORE_FSYNC_SECONDS, names::SECONDS_BUCKETS),
        (names::STORE_BATCH_SIZE, names::BATCH_BUCKETS),
    ];
    buckets
        .into_iter()
        .fold(PrometheusBuilder::new(), |b, (name, values)| {
            b.set_buckets_for_metric(Matcher::Full(name.to_owned()), values)
                .expect("bucket lists are not empty")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_install_returns_the_same_recorder() {
        let a = install() as *const PrometheusHandle;
        let b = install() as *const PrometheusHandle;
        assert_eq!(a, b);
        metrics::counter!("callhook_test_install_total", "case" => "twice").increment(2);
        let text = install().render();
        assert!(
            text.contains("callhook_test_install_total{case=\"twice\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn histograms_render_with_the_explicit_buckets() {
        install();
        metrics::histogram!(names::STORE_BATCH_SIZE, "backend" => "unit-test").record(3.0);
        let text = install().render();
        assert!(
            text.contains("callhook_store_batch_size_bucket{backend=\"unit-test\",le=\"4\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("callhook_store_batch_size_bucket{backend=\"unit-test\",le=\"2\"} 0"),
            "{text}"
        );
    }
}
