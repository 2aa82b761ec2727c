//! One scrape's metric families, encoded by the `prometheus-client` crate in
//! the Prometheus text format (version 0.0.4).
//!
//! `metrics.rs` fills an [`Exposition`] from values read at scrape time
//! (status snapshots, atomics, histograms); [`Exposition::finish`] hands it
//! to a per-scrape `Registry` as its one custom `Collector`, so nothing is
//! kept or registered between scrapes and each value is read once.
//!
//! prometheus-client writes OpenMetrics text, in which a counter family is
//! named without its `_total` suffix (`# TYPE sandbar_bars counter` above
//! `sandbar_bars_total 42`). Under the 0.0.4 content type served here,
//! Prometheus's classic parser (and prometheus-parse) match a `TYPE` line to
//! samples by their exact name, so [`Exposition::finish`] names a counter's
//! `HELP` and `TYPE` lines as its samples are named, and the OpenMetrics
//! `# EOF` line is not written. Everything else is the crate's text as is.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode_registry;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The content type Prometheus expects for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The suffix every counter sample carries (prometheus-client appends it).
const TOTAL: &str = "_total";

/// The families of one scrape, in the order they are written.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

#[derive(Debug)]
struct Family {
    /// As prometheus-client names the family: a counter without `_total`.
    name: &'static str,
    help: String,
    kind: MetricType,
    series: Vec<(Labels, Value)>,
}

/// prometheus-client escapes label values as the format requires.
type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
enum Value {
    Counter(u64),
    Gauge(f64),
    Histogram {
        sum: f64,
        count: u64,
        /// `(upper bound, count in this bucket)`, the last bound infinite
        /// (prometheus-client writes it as `+Inf`).
        buckets: Vec<(f64, u64)>,
    },
}

/// Samples of one counter family.
pub struct Counters<'a>(&'a mut Family);
/// Samples of one gauge family.
pub struct Gauges<'a>(&'a mut Family);
/// Series of one histogram family.
pub struct Histograms<'a>(&'a mut Family);

impl Counters<'_> {
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: u64) {
        self.0.push(labels, Value::Counter(value));
    }
}

impl Gauges<'_> {
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: f64) {
        self.0.push(labels, Value::Gauge(value));
    }
}

impl Histograms<'_> {
    /// One series from `(le, cumulative count)` pairs without `+Inf`;
    /// `count` is every observation, those above the last bound included.
    pub fn series(
        &mut self,
        labels: &[(&'static str, &str)],
        cumulative: &[(f64, u64)],
        count: u64,
        sum: f64,
    ) {
        let mut below = 0;
        let mut buckets: Vec<(f64, u64)> = cumulative
            .iter()
            .map(|&(le, total)| {
                let in_bucket = total.saturating_sub(below);
                below = below.max(total);
                (le, in_bucket)
            })
            .collect();
        buckets.push((f64::INFINITY, count.saturating_sub(below)));
        self.0.push(
            labels,
            Value::Histogram {
                sum,
                count,
                buckets,
            },
        );
    }
}

impl Family {
    fn push(&mut self, labels: &[(&'static str, &str)], value: Value) {
        let labels = labels
            .iter()
            .map(|(key, value)| (*key, (*value).to_owned()))
            .collect();
        self.series.push((labels, value));
    }
}

impl Exposition {
    /// A counter family; `name` is its samples' name, ending in `_total`.
    pub fn counter(&mut self, name: &'static str, help: &str) -> Counters<'_> {
        debug_assert!(name.ends_with(TOTAL), "counter {name} without {TOTAL}");
        let family = name.strip_suffix(TOTAL).unwrap_or(name);
        Counters(self.family(family, help, MetricType::Counter))
    }

    pub fn gauge(&mut self, name: &'static str, help: &str) -> Gauges<'_> {
        Gauges(self.family(name, help, MetricType::Gauge))
    }

    /// A histogram family; its samples are `name` with `_bucket`, `_sum`
    /// and `_count`.
    pub fn histogram(&mut self, name: &'static str, help: &str) -> Histograms<'_> {
        Histograms(self.family(name, help, MetricType::Histogram))
    }

    fn family(&mut self, name: &'static str, help: &str, kind: MetricType) -> &mut Family {
        self.families.push(Family {
            name,
            // prometheus-client writes help text as given; the format wants
            // backslashes and line breaks escaped.
            help: help.replace('\\', r"\\").replace('\n', r"\n"),
            kind,
            series: Vec::new(),
        });
        let last = self.families.len() - 1;
        &mut self.families[last]
    }

    /// The text of every family, as served on `/metrics`.
    pub fn finish(self) -> String {
        let counters: BTreeSet<&'static str> = self
            .families
            .iter()
            .filter(|f| matches!(f.kind, MetricType::Counter))
            .map(|f| f.name)
            .collect();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        let mut open_metrics = String::new();
        // Writing into a String cannot fail and every histogram has its
        // `+Inf` bucket, so an error here is a bug: keep what was written.
        if let Err(error) = encode_registry(&mut open_metrics, &registry) {
            tracing::error!(%error, "encoding /metrics stopped early");
        }
        classic_counter_names(&open_metrics, &counters)
    }
}

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        for family in &self.families {
            let mut metric =
                encoder.encode_descriptor(family.name, &family.help, None, family.kind)?;
            for (labels, value) in &family.series {
                // An empty label set would be written as `name{}`, which
                // classic parsers do not read.
                if labels.is_empty() {
                    encode_value(&mut metric, value)?;
                } else {
                    encode_value(&mut metric.encode_family(labels)?, value)?;
                }
            }
        }
        Ok(())
    }
}

fn encode_value(encoder: &mut MetricEncoder, value: &Value) -> std::fmt::Result {
    match value {
        Value::Counter(n) => encoder.encode_counter::<NoLabelSet, _, u64>(n, None),
        Value::Gauge(v) => encoder.encode_gauge(v),
        Value::Histogram {
            sum,
            count,
            buckets,
        } => encoder.encode_histogram::<NoLabelSet>(*sum, *count, buckets, None),
    }
}

/// Renames the `HELP` and `TYPE` lines of the `counters` families to their
/// samples' name (`x` -> `x_total`), as the 0.0.4 format names them.
fn classic_counter_names(open_metrics: &str, counters: &BTreeSet<&str>) -> String {
    let mut out = String::with_capacity(open_metrics.len() + counters.len() * 2 * TOTAL.len());
    for line in open_metrics.lines() {
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|tag| Some((tag, line.strip_prefix(tag)?.split_once(' ')?)));
        match descriptor {
            Some((tag, (name, rest))) if counters.contains(name) => {
                let _ = write!(out, "{tag}{name}{TOTAL} {rest}");
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_parse::{Scrape, Value as Parsed};

    fn sample() -> String {
        let mut e = Exposition::default();
        e.counter("x_total", "Things.\nMore \\ here")
            .sample(&[("a", "q\"u\\o\nte")], 3);
        e.gauge("y", "A gauge.").sample(&[], 0.25);
        e.counter("empty_total", "No series yet.");
        let mut h = e.histogram("h_seconds", "Durations.");
        h.series(&[("s", "1")], &[(0.5, 1), (1.0, 2)], 3, 2.25);
        e.finish()
    }

    #[test]
    fn counters_gauges_and_histograms_in_the_0_0_4_text_format() {
        assert_eq!(
            sample(),
            "# HELP x_total Things.\\nMore \\\\ here\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"u\\\\o\\nte\"} 3\n\
             # HELP y A gauge.\n# TYPE y gauge\ny 0.25\n\
             # HELP empty_total No series yet.\n# TYPE empty_total counter\n\
             # HELP h_seconds Durations.\n# TYPE h_seconds histogram\n\
             h_seconds_sum{s=\"1\"} 2.25\nh_seconds_count{s=\"1\"} 3\n\
             h_seconds_bucket{le=\"0.5\",s=\"1\"} 1\n\
             h_seconds_bucket{le=\"1.0\",s=\"1\"} 2\n\
             h_seconds_bucket{le=\"+Inf\",s=\"1\"} 3\n"
        );
    }

    #[test]
    fn a_classic_parser_types_counters_by_their_total_name() {
        let text = sample();
        assert!(!text.contains("# EOF"), "{text}");
        let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        let x = scrape
            .samples
            .iter()
            .find(|s| s.metric == "x_total")
            .unwrap();
        assert_eq!(x.value, Parsed::Counter(3.0));
        assert_eq!(x.labels.get("a"), Some("q\\\"u\\\\o\\nte"));
        assert!(scrape.docs.contains_key("x_total"), "{:?}", scrape.docs);
        let h = scrape
            .samples
            .iter()
            .find(|s| s.metric == "h_seconds")
            .unwrap();
        let Parsed::Histogram(buckets) = &h.value else {
            panic!("h_seconds is a histogram: {h:?}")
        };
        let counts: Vec<(f64, f64)> = buckets.iter().map(|b| (b.less_than, b.count)).collect();
        assert_eq!(counts, [(0.5, 1.0), (1.0, 2.0), (f64::INFINITY, 3.0)]);
    }

    #[test]
    fn only_counter_descriptors_are_renamed() {
        let counters = BTreeSet::from(["c"]);
        let text = "# HELP c Help c.\n# TYPE c counter\nc_total 1\n\
                    # HELP cc Not c.\n# TYPE cc gauge\ncc 2\n";
        assert_eq!(
            classic_counter_names(text, &counters),
            "# HELP c_total Help c.\n# TYPE c_total counter\nc_total 1\n\
             # HELP cc Not c.\n# TYPE cc gauge\ncc 2\n"
        );
    }
}
