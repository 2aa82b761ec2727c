//! The fleet (issue 20) against a real `nats-server` on loopback:
//!
//! - `deploy_to_3_nodes`: `deploy` of a known build (every node has its
//!   artefact and its compile cached) → all three in-process nodes serving
//!   it (their live generation is that build), p50 and p90 over rounds that
//!   alternate two builds; and of a new build: publish + deploy → all three
//!   serving (download, cold compile once, cache hits on the other two, as
//!   nodes sharing an artefact cache would);
//! - `bar_loop_with_fleet`: the per-bar round trip (push on the manual
//!   feed, spin until processed) of a node with `[fleet]` (heartbeat every
//!   100 ms, events forwarded) against the same node without it, slices
//!   interleaved so machine load falls on both alike.
//!
//! A custom main: `cargo bench --bench fleet`; without `--bench` (as
//! `cargo test --benches` runs it) a short smoke run.

#[path = "../tests/e2e/fleet/nats.rs"]
#[allow(dead_code)]
mod nats;
mod support;

use hdrhistogram::Histogram;
use sandbar_runtime::Loader;
use sandbar_runtime::config::Config;
use sandbar_runtime::contract::Bar;
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::fleet::{
    DeployRequest, Deployment, Expect, FleetClient, FleetSettings, NodeAgent,
};
use sandbar_runtime::live::{FeedMode, LiveOptions, Runtime};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Node {
    runtime: Runtime,
    agent: Option<NodeAgent>,
    _dir: tempfile::TempDir,
    bars: SyntheticFeed,
    pushed: u64,
}

fn config(dir: &std::path::Path, fleet: Option<(&str, &str)>, local: Option<&str>) -> Config {
    let mut text = String::from(
        "profile = \"dev\"\n[runtime]\nstrategies_dir = \"dist\"\nhistory_bars = 64\n[hot_reload]\nenabled = false\n[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 0\n",
    );
    if let Some((url, node)) = fleet {
        text.push_str(&format!(
            "[fleet]\nurl = \"{url}\"\nnode = \"{node}\"\nfleet = \"bench\"\nheartbeat_ms = 100\n"
        ));
    }
    if let Some(wasm) = local {
        text.push_str(&format!(
            "[[strategy]]\nid = \"local\"\nwasm = \"{wasm}\"\n"
        ));
    }
    let path = dir.join("sandbar.toml");
    std::fs::write(&path, &text).unwrap();
    Config::from_file(&path).unwrap()
}

impl Node {
    fn start(loader: &Arc<Loader>, fleet: Option<(&str, &str)>, local: Option<&[u8]>) -> Node {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        if let Some(bytes) = local {
            std::fs::write(dir.path().join("dist/local.wasm"), bytes).unwrap();
        }
        let config = config(dir.path(), fleet, local.map(|_| "local.wasm"));
        let options = LiveOptions {
            config_path: None,
            journal_dir: None,
            feed: FeedMode::Manual,
            watch: false,
            rescan: false,
        };
        let (runtime, agent) = if fleet.is_some() {
            let (runtime, agent) =
                NodeAgent::start_runtime(config, options, Arc::clone(loader)).unwrap();
            (runtime, Some(agent))
        } else {
            (
                Runtime::start_with_loader(config, options, Arc::clone(loader)).unwrap(),
                None,
            )
        };
        Node {
            runtime,
            agent,
            _dir: dir,
            bars: SyntheticFeed::new(1, 7, MarketStyle::Regimes, 60_000),
            pushed: 0,
        }
    }

    fn push(&mut self) {
        let bar: Bar = self.bars.next_bar();
        self.runtime.push_bar(bar).unwrap();
        self.pushed += 1;
    }

    fn round_trip(&mut self) -> Duration {
        let start = Instant::now();
        self.push();
        while self.runtime.bars_processed() < self.pushed {
            std::hint::spin_loop();
        }
        start.elapsed()
    }

    fn serves(&self, sha256: &str) -> bool {
        self.runtime
            .generation("fa")
            .is_some_and(|g| g.sha256() == sha256)
    }

    fn stop(mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop();
        }
        self.runtime.stop();
    }
}

fn deploy(op: &FleetClient, sha256: &str) {
    op.deploy(&DeployRequest {
        deployment: Deployment::new("fa", sha256),
        expect: Expect::Current,
    })
    .unwrap();
}

/// Deploys `sha256` and returns the time until every node serves it,
/// pushing a bar to each now and then so handoffs happen.
fn until_all_serve(
    op: &FleetClient,
    nodes: &mut [Node],
    sha256: &str,
    before: impl FnOnce(),
) -> Duration {
    let start = Instant::now();
    before();
    deploy(op, sha256);
    let deadline = start + Duration::from_secs(60);
    while !nodes.iter().all(|n| n.serves(sha256)) {
        assert!(
            Instant::now() < deadline,
            "the nodes did not converge on {sha256}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    let elapsed = start.elapsed();
    for node in nodes.iter_mut() {
        node.push();
    }
    elapsed
}

fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let quick = support::quick();
    let store = tempfile::tempdir().unwrap();
    let server = nats::NatsServer::start(store.path());
    let url = server.url();
    let op = FleetClient::connect(&FleetSettings::client(&url, "bench")).unwrap();
    let built = support::components();
    let bytes = std::fs::read(support::component(&built, "sma-cross")).unwrap();
    let loader = Arc::new(Loader::new().unwrap());

    // deploy_to_3_nodes
    let mut nodes: Vec<Node> = (0..3)
        .map(|i| {
            let name = format!("n{i}");
            Node::start(&loader, Some((url.as_str(), name.as_str())), None)
        })
        .collect();
    let known = [
        support::with_marker(&bytes, 1),
        support::with_marker(&bytes, 2),
    ];
    let shas: Vec<String> = known.iter().map(|b| op.publish(b).unwrap().0).collect();
    for sha in &shas {
        until_all_serve(&op, &mut nodes, sha, || {});
    }
    let rounds = if quick { 2 } else { 30 };
    let mut known_times = Vec::new();
    for round in 0..rounds {
        known_times.push(until_all_serve(&op, &mut nodes, &shas[round % 2], || {}));
    }
    let new_rounds = if quick { 1 } else { 8 };
    let mut new_times = Vec::new();
    for round in 0..new_rounds {
        let fresh = support::with_marker(&bytes, 100 + round as u32);
        let sha = sandbar_runtime::sha256_hex(&fresh);
        new_times.push(until_all_serve(&op, &mut nodes, &sha, || {
            op.publish(&fresh).unwrap();
        }));
    }
    for node in nodes {
        node.stop();
    }
    println!(
        "deploy_to_3_nodes/known_build: p50 {:.1} ms, p90 {:.1} ms over {rounds} deploys",
        percentile(&mut known_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut known_times, 0.9).as_secs_f64() * 1e3
    );
    println!(
        "deploy_to_3_nodes/new_build (publish + deploy): p50 {:.1} ms, max {:.1} ms over {new_rounds}",
        percentile(&mut new_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut new_times, 1.0).as_secs_f64() * 1e3
    );

    // bar_loop_with_fleet: the same local strategy, with and without [fleet].
    let mut with = Node::start(&loader, Some((url.as_str(), "lat")), Some(&bytes));
    let mut without = Node::start(&loader, None, Some(&bytes));
    let histogram = || Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    let (mut h_with, mut h_without) = (histogram(), histogram());
    let (slices, slice) = if quick {
        (2, Duration::from_millis(100))
    } else {
        (20, Duration::from_millis(500))
    };
    for _ in 0..200 {
        with.round_trip();
        without.round_trip();
    }
    for _ in 0..slices {
        for (node, h) in [(&mut with, &mut h_with), (&mut without, &mut h_without)] {
            let end = Instant::now() + slice;
            while Instant::now() < end {
                h.record(node.round_trip().as_nanos() as u64).unwrap();
            }
        }
    }
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e3;
    for (name, h) in [("with_fleet", &h_with), ("without_fleet", &h_without)] {
        println!(
            "bar_loop_with_fleet/{name}: p50 {:.2} us, p99 {:.2} us, mean {:.2} us over {} bars",
            us(h, 0.5),
            us(h, 0.99),
            h.mean() / 1e3,
            h.len()
        );
    }
    println!(
        "bar_loop_with_fleet: mean ratio with/without {:.3}",
        h_with.mean() / h_without.mean()
    );
    with.stop();
    without.stop();
}
