//! The fleet (issue 20) against a real `nats-server` on loopback:
//!
//! - `deploy_to_3_nodes`: `deploy` of a known build (every node has its
//!   artefact and its compile cached) → all three in-process nodes serving
//!   it (their live generation is that build), p50 and p90 over rounds that
//!   alternate two builds; and of a new build: publish + deploy → all three
//!   serving (download, cold compile once, cache hits on the other two, as
//!   nodes sharing an artefact cache would), and the same on one node
//!   (three nodes on two cores compile side by side; one node is what each
//!   machine of a fleet sees);
//! - `bar_loop_with_fleet`: the per-bar round trip (push on the manual
//!   feed, spin until processed) of a node with `[fleet]` (heartbeat every
//!   100 ms, events forwarded) against the same node without it, slices
//!   interleaved so machine load falls on both alike (the fleet's own
//!   deployment is retired first: both nodes run the same one strategy);
//! - `local_cold_reload`: a new build of a local strategy, file written and
//!   pipeline run, until it serves: the baseline of `new_build`.
//!
//! A custom main: `cargo bench --bench fleet` (release), or
//! `cargo test -p sandbar --bench fleet -- --bench` (the full run in the
//! test profile, dependencies at opt-level 2); without `--bench` (as
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
    dir: tempfile::TempDir,
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
            dir,
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

/// Deploys `sha256` and returns the times until the first node and until
/// every node serves it (the nodes share this machine's two cores, so the
/// first is what one machine of a real fleet would see), then pushes a
/// bar to each.
fn until_all_serve(
    op: &FleetClient,
    nodes: &mut [Node],
    sha256: &str,
    before: impl FnOnce(),
) -> (Duration, Duration) {
    let start = Instant::now();
    before();
    deploy(op, sha256);
    let deadline = start + Duration::from_secs(60);
    let mut first = None;
    while !nodes.iter().all(|n| n.serves(sha256)) {
        if first.is_none() && nodes.iter().any(|n| n.serves(sha256)) {
            first = Some(start.elapsed());
        }
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
    (first.unwrap_or(elapsed), elapsed)
}

/// A local cold reload on `node` (no fleet): a new build of its `local`
/// strategy written over its file, then the pipeline run on it; the time
/// until it serves the new build. The baseline of the fleet's new-build
/// figure (issue 20: ≤ this + 30 ms).
fn local_cold_reload(node: &mut Node, bytes: &[u8]) -> Duration {
    let sha256 = sandbar_runtime::sha256_hex(bytes);
    let start = Instant::now();
    std::fs::write(node.dir.path().join("dist/local.wasm"), bytes).unwrap();
    node.runtime.reload("local").unwrap();
    let deadline = start + Duration::from_secs(60);
    while node
        .runtime
        .generation("local")
        .is_none_or(|g| g.sha256() != sha256)
    {
        assert!(Instant::now() < deadline, "the local reload did not serve");
        std::thread::sleep(Duration::from_micros(200));
    }
    let elapsed = start.elapsed();
    node.push();
    elapsed
}

/// CPU time (user + system) of this process's threads whose name starts
/// with `prefix`, from `/proc/self/task/*/stat`.
fn thread_cpu(prefix: &str) -> Duration {
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the `(comm)`: state is the 3rd field, utime the 14th.
        let Some(rest) = stat.rsplit_once(") ").map(|(_, rest)| rest) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| {
            fields
                .get(n - 3)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += field(14) + field(15);
    }
    Duration::from_secs_f64(ticks as f64 / ticks_per_second)
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
        known_times.push(until_all_serve(&op, &mut nodes, &shas[round % 2], || {}).1);
    }
    let new_rounds = if quick { 1 } else { 8 };
    let (mut new_times, mut new_first) = (Vec::new(), Vec::new());
    for round in 0..new_rounds {
        let fresh = support::with_marker(&bytes, 100 + round as u32);
        let sha = sandbar_runtime::sha256_hex(&fresh);
        let (first, all) = until_all_serve(&op, &mut nodes, &sha, || {
            op.publish(&fresh).unwrap();
        });
        new_first.push(first);
        new_times.push(all);
    }
    // The same on one node: three cold compiles of one build on this
    // machine's two cores are no fleet of machines, each compiling its own;
    // one node is what each of those would see.
    for node in nodes.split_off(1) {
        node.stop();
    }
    let mut single_times = Vec::new();
    for round in 0..new_rounds {
        let fresh = support::with_marker(&bytes, 150 + round as u32);
        let sha = sandbar_runtime::sha256_hex(&fresh);
        single_times.push(
            until_all_serve(&op, &mut nodes, &sha, || {
                op.publish(&fresh).unwrap();
            })
            .1,
        );
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
    println!(
        "deploy_to_3_nodes/new_build, first node serving: p50 {:.1} ms, max {:.1} ms",
        percentile(&mut new_first, 0.5).as_secs_f64() * 1e3,
        percentile(&mut new_first, 1.0).as_secs_f64() * 1e3
    );

    println!(
        "deploy_to_1_node/new_build (publish + deploy): p50 {:.1} ms, max {:.1} ms over {new_rounds}",
        percentile(&mut single_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut single_times, 1.0).as_secs_f64() * 1e3
    );

    // bar_loop_with_fleet: the same local strategy, with and without [fleet].
    // `fa` is retired first: the node with [fleet] must run what the other
    // runs and nothing more, or the ratio would count a second strategy.
    op.undeploy("fa").unwrap();
    let mut with = Node::start(&loader, Some((url.as_str(), "lat")), Some(&bytes));
    let mut without = Node::start(&loader, None, Some(&bytes));
    // The agent has caught up with the (empty) deployments once its
    // heartbeat names the node.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !op
        .status()
        .unwrap()
        .nodes
        .iter()
        .any(|beat| beat.node == "lat")
    {
        assert!(Instant::now() < deadline, "the node `lat` never joined");
        std::thread::sleep(Duration::from_millis(20));
    }
    for node in [&with, &without] {
        let ids: Vec<String> = node
            .runtime
            .status()
            .strategies
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, ["local"], "both nodes run the local strategy only");
    }
    // A second node without [fleet]: the A/A control, so the noise of two
    // identical nodes on this machine is printed beside the ratio.
    let mut control = Node::start(&loader, None, Some(&bytes));
    let histogram = || Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    let (mut h_with, mut h_without) = (histogram(), histogram());
    let (slices, slice) = if quick {
        (4, Duration::from_millis(50))
    } else {
        (60, Duration::from_millis(200))
    };
    for _ in 0..200 {
        for node in [&mut with, &mut without, &mut control] {
            node.round_trip();
        }
    }
    // One slice of round trips on `node`: their mean, in ns.
    let run_slice = |node: &mut Node, h: Option<&mut Histogram<u64>>| {
        let mut slice_h = histogram();
        let end = Instant::now() + slice;
        while Instant::now() < end {
            slice_h.record(node.round_trip().as_nanos() as u64).unwrap();
        }
        if let Some(h) = h {
            h.add(&slice_h).unwrap();
        }
        slice_h.mean()
    };
    let (mut fleet_ratios, mut control_ratios) = (Vec::new(), Vec::new());
    let agent_before = thread_cpu("sandbar-fleet");
    let measured = Instant::now();
    for i in 0..slices {
        // Each slice of `without` sits between one of `with` and one of the
        // control, in an order that alternates, so drift cancels.
        let (w, c, o) = if i % 2 == 0 {
            let w = run_slice(&mut with, Some(&mut h_with));
            let o = run_slice(&mut without, Some(&mut h_without));
            let c = run_slice(&mut control, None);
            (w, c, o)
        } else {
            let c = run_slice(&mut control, None);
            let o = run_slice(&mut without, Some(&mut h_without));
            let w = run_slice(&mut with, Some(&mut h_with));
            (w, c, o)
        };
        fleet_ratios.push(w / o);
        control_ratios.push(c / o);
    }
    let agent_cpu = thread_cpu("sandbar-fleet").saturating_sub(agent_before);
    let wall = measured.elapsed();
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
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "bar_loop_with_fleet: per-slice mean ratio with/without, median of {slices} paired slices {:.3} (A/A control, two nodes without [fleet]: {:.3}); overall mean ratio {:.3}; p50 ratio {:.3}",
        median(&mut fleet_ratios),
        median(&mut control_ratios),
        h_with.mean() / h_without.mean(),
        us(&h_with, 0.5) / us(&h_without, 0.5)
    );
    println!(
        "bar_loop_with_fleet: the agent's threads used {:.2} ms of CPU in {:.1} s ({:.3}% of one core; heartbeat every 100 ms)",
        agent_cpu.as_secs_f64() * 1e3,
        wall.as_secs_f64(),
        agent_cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
    );
    control.stop();
    with.stop();
    let mut cold_times: Vec<Duration> = (0..new_rounds)
        .map(|round| {
            let fresh = support::with_marker(&bytes, 200 + round as u32);
            local_cold_reload(&mut without, &fresh)
        })
        .collect();
    println!(
        "local_cold_reload (baseline of new_build): p50 {:.1} ms, max {:.1} ms over {new_rounds}",
        percentile(&mut cold_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut cold_times, 1.0).as_secs_f64() * 1e3
    );
    without.stop();
}
